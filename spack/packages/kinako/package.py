# Spack recipe for kinako (not yet exercised by CI: spack is not installable on this box).
from spack.package import *


class Kinako(CMakePackage, PythonExtension):
    """Mochi-style HPC data services (margo engine on libfabric, yokan, warabi, bedrock)."""

    homepage = "https://example.invalid/kinako"
    git = "https://example.invalid/kinako.git"

    version("main", branch="main")

    variant("python", default=True, description="Build the Python bindings (mochi.margo, pymargo, mochi.yokan, mochi.warabi, mochi.bedrock)")

    depends_on("cmake@3.20:", type="build")
    depends_on("libfabric fabrics=tcp,rxm,shm")
    depends_on("boost@1.74: +fiber +context")
    depends_on("nlohmann-json@3.9:")
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
