# Sourced by scripts/build_cuda.sh and scripts/gpu_check.sh: installs CUDA 13.0's
# compiler, headers and libraries from PyPI into .cuda/ (ignored by git) and exports
# what a `--features cuda` build needs. Expects `compute_capability` to be set.
#
# 13.0, the oldest CUDA 13, because candle loads its kernels as PTX, which a driver
# compiles only when it is at least as new as the compiler that wrote it: drivers
# >= 580 run this build. The driver library itself (libcuda.so.1) comes with the GPU's
# driver; to link where there is none, a stub that defines its functions is built from
# cudarc's bindings (what the CUDA toolkit's lib64/stubs holds), and the binary finds
# the real one when it starts.

root=$PWD/.cuda
if [ ! -x "$root/venv/bin/python" ]; then
    python3 -m venv "$root/venv"
fi
"$root/venv/bin/pip" install --quiet --disable-pip-version-check \
    "nvidia-cuda-nvcc==13.0.*" "nvidia-cuda-runtime==13.0.*" "nvidia-cuda-crt==13.0.*" \
    "nvidia-nvvm==13.0.*" "nvidia-cuda-nvrtc==13.0.*" "nvidia-cublas>=13.0,<13.1" \
    "nvidia-curand>=10.4.0,<10.4.1" "nvidia-cuda-cccl==13.0.*"
toolkit=$("$root/venv/bin/python" -c 'import nvidia, os; print(os.path.join(nvidia.__path__[0], "cu13"))')
[ -x "$toolkit/bin/nvcc" ] || { echo "error: no nvcc in $toolkit/bin" >&2; exit 1; }

# The linker wants unversioned names (libcublas.so) next to the wheels' libraries.
for library in "$toolkit"/lib/lib*.so.*; do
    name=$(basename "$library")
    unversioned=${name%%.so.*}.so
    [ -e "$toolkit/lib/$unversioned" ] || ln -s "$name" "$toolkit/lib/$unversioned"
done

# The driver stub: every cu* function cudarc declares, each returning
# CUDA_ERROR_UNKNOWN; cudarc's build looks in lib/stubs.
cudarc=$(cargo metadata --format-version 1 --features dnalm-cli/cuda 2>/dev/null |
    "$root/venv/bin/python" -c 'import json, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "cudarc":
        print(p["manifest_path"].rsplit("/", 1)[0])')
[ -n "$cudarc" ] || { echo "error: cargo metadata did not name cudarc" >&2; exit 1; }
mkdir -p "$toolkit/lib/stubs"
grep -ohE '^\s+fn cu[A-Za-z0-9_]+\(' "$cudarc/src/driver/sys/mod.rs" |
    sed -E 's/^\s+fn (cu[A-Za-z0-9_]+)\(/\1/' | sort -u |
    awk '{ print "int " $1 "(void) { return 999; }" }' >"$root/libcuda_stub.c"
cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$toolkit/lib/stubs/libcuda.so" "$root/libcuda_stub.c"

export PATH=$toolkit/bin:$PATH
export CUDA_ROOT=$toolkit
export CUDA_COMPUTE_CAP=$compute_capability
export RUSTFLAGS="${RUSTFLAGS:-} -C link-arg=-Wl,-rpath,$toolkit/lib"
# Apart from the CPU build, so that neither rebuilds the other.
export CARGO_TARGET_DIR=$PWD/target/cuda
