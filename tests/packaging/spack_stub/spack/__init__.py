"""A stand-in for Spack, holding only `spack.package` (see package.py beside this file).

It exists so that tests/packaging can import spack/packages/kinako/package.py without Spack,
which no registry this project can reach provides.
"""
