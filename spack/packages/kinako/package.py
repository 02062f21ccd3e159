# Spack recipe for kinako: `spack install kinako+python` (the HPC path; see spack.yaml).
#
# What CI exercises (tests/packaging/test_spack_recipe.py, without Spack, which no registry
# this project reaches provides): this file is imported with a stub `spack.package`; its
# directives are checked against scripts/install-deps.sh, pyproject.toml, the find_package()
# calls of the CMake build and spack.yaml; cmake_args() for +python is configured (with the
# install-relevant part of Spack's standard CMake arguments), built, installed into a fresh
# prefix, and used from there with nothing of the build tree in the environment (Python
# imports and RPCs, the bedrock command, a C++ program using find_package(kinako)); ~python is
# configured only and its install rules compared. What CI does not exercise: Spack itself
# (concretization, fetching from `git`, the Spack-built dependencies, compiler wrappers and
# views); the dependencies come from Debian there. Written for the Spack v0.2x repository
# layout (spack/repo.yaml + packages/); the language dependencies c/cxx need Spack >= 0.23.
from spack.package import *


class Kinako(CMakePackage, PythonExtension):
    """Mochi-style HPC data services (margo engine on libfabric, yokan, warabi, bedrock)."""

    homepage = "https://example.invalid/kinako"
    git = "https://example.invalid/kinako.git"

    version("main", branch="main")

    variant("python", default=True, description="Build the Python bindings (mochi.margo, pymargo, mochi.yokan, mochi.warabi, mochi.bedrock, mochi.flock)")

    # The languages of project() in CMakeLists.txt: without them Spack >= 1.0 gives no compiler.
    depends_on("c", type="build")
    depends_on("cxx", type="build")
    depends_on("cmake@3.20:", type="build")
    depends_on("pkgconfig", type="build")  # find_package(PkgConfig REQUIRED): libfabric, pmdk, lua
    depends_on("libfabric fabrics=tcp,rxm,shm")
    depends_on("boost@1.74: +fiber +context")
    depends_on("nlohmann-json@3.9:")
    depends_on("spdlog")  # CMakeLists.txt: find_package(spdlog REQUIRED); brings fmt
    depends_on("xxhash")
    depends_on("googletest", type="test")
    depends_on("mpi")
    depends_on("rocksdb")
    depends_on("lmdb")
    depends_on("leveldb")
    depends_on("pmdk")
    depends_on("tomlplusplus")
    depends_on("lua@5.4:")
    depends_on("python@3.9:", when="+python", type=("build", "link", "run"))
    depends_on("py-pybind11@2.11:", when="+python", type="build")
    depends_on("py-numpy", when="+python", type=("build", "run"))
    depends_on("py-attrs", when="+python", type="run")  # mochi.bedrock.client/.spec import it
    extends("python", when="+python")

    def cmake_args(self):
        args = [
            self.define_from_variant("KINAKO_BUILD_PYTHON", "python"),
            self.define("KINAKO_BUILD_TESTS", self.run_tests),
            self.define("KINAKO_BUILD_BENCH", False),
            self.define("KINAKO_LIB_INSTALL_DIR", "lib"),
            self.define("KINAKO_PYTHON_RPATH", self.prefix.lib),
        ]
        if self.spec.satisfies("+python"):
            # Extensions and the mochi/pymargo packages go to site-packages, next to each other.
            args.append(self.define("KINAKO_PYTHON_INSTALL_DIR", python_platlib))
        return args
