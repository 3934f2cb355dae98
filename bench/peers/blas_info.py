"""Which BLAS a peer process loaded, and which kernels it chose: printed beside each peer's figures."""
import ctypes


def blas_config():
    """openblas_get_config() of the OpenBLAS in this process, or the BLAS libraries' file names."""
    with open("/proc/self/maps") as maps:
        paths = sorted({line.split()[-1] for line in maps if "blas" in line.lower() and ".so" in line})
    # pip's NumPy ships OpenBLAS with prefixed 64-bit-integer symbols.
    names = ("openblas_get_config", "scipy_openblas_get_config64_", "openblas_get_config64_")
    for path in paths:
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for name in names:
            function = getattr(library, name, None)
            if function is not None:
                function.restype = ctypes.c_char_p
                return function().decode()
    return ", ".join(p.split("/")[-1] for p in paths) or "unknown"
