"""Finding and loading ``libvoicetelemetry.so``.

Search order (the first existing file wins):

1. ``$VOICETELEMETRY_LIB`` -- an explicit path. When it is set, it is the only place tried: a typo
   there must not silently load some other copy of the library.
2. ``libvoicetelemetry.so`` next to this package (``voicetelemetry/libvoicetelemetry.so``), for
   wheels that ship the library.
3. The project's build output, ``<repo>/build/lib/libvoicetelemetry.so``, found relative to the
   package source (``examples-python/voicetelemetry`` -> ``<repo>``), for a source checkout only (an
   installed package has no such place, and the error message does not list one).
4. The system loader: ``ctypes.util.find_library("voicetelemetry")``, then plain
   ``libvoicetelemetry.so`` (``LD_LIBRARY_PATH``, ``ld.so.cache``, the default directories).

When nothing loads, :class:`LibraryNotFoundError` names every place tried and why it failed.
After loading, the library's major version must equal :data:`SUPPORTED_MAJOR`; otherwise
:class:`LibraryVersionError` is raised.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
from pathlib import Path
from typing import List, Mapping, Optional, Tuple

__all__ = [
    "ENV_VAR",
    "LIB_NAME",
    "SUPPORTED_MAJOR",
    "MIN_VERSION_NUMBER",
    "LibraryLoadError",
    "LibraryNotFoundError",
    "LibraryVersionError",
    "candidates",
    "load",
]

#: Environment variable naming the library file explicitly.
ENV_VAR = "VOICETELEMETRY_LIB"
#: File name of the shared library.
LIB_NAME = "libvoicetelemetry.so"
#: The C ABI major version this package was written for (VT_VERSION_MAJOR of the header).
SUPPORTED_MAJOR = 1
#: The oldest library this package can use: every function it binds exists since 1.0.0.
MIN_VERSION_NUMBER = 1_000_000

_PACKAGE_DIR = Path(__file__).resolve().parent


class LibraryLoadError(OSError):
    """The native library could not be loaded or is not usable."""


class LibraryNotFoundError(LibraryLoadError):
    """No candidate location held a loadable library. ``.tried`` lists (place, reason) pairs."""

    def __init__(self, tried: List[Tuple[str, str]]):
        self.tried = tried
        lines = "\n".join(f"  - {place}: {reason}" for place, reason in tried)
        super().__init__(
            f"could not load {LIB_NAME}; tried, in order:\n{lines}\n"
            f"Build it with `make lib` in the voicetelemetry repository, or set {ENV_VAR} "
            f"to the library's path."
        )


class LibraryVersionError(LibraryLoadError):
    """The loaded library has a different major version than this package supports."""


def candidates(
    environ: Optional[Mapping[str, str]] = None,
    package_dir: Optional[Path] = None,
) -> List[Tuple[str, Optional[str]]]:
    """Return the places to try, in order, as ``(description, path_or_soname)`` pairs.

    A ``None`` path means the place yields nothing (e.g. ``find_library`` found nothing); it is
    still listed so that the error message can name it.
    """
    env = os.environ if environ is None else environ
    pkg = _PACKAGE_DIR if package_dir is None else Path(package_dir)
    explicit = env.get(ENV_VAR)
    if explicit:
        return [(f"${ENV_VAR}={explicit}", explicit)]
    out: List[Tuple[str, Optional[str]]] = []
    out.append(("next to the package", str(pkg / LIB_NAME)))
    repo = pkg.parent.parent
    if (repo / "include" / "voicetelemetry.h").is_file():   # a source checkout, not site-packages
        out.append(("the project's build output", str(repo / "build" / "lib" / LIB_NAME)))
    found = ctypes.util.find_library("voicetelemetry")
    out.append(('ctypes.util.find_library("voicetelemetry")', found))
    out.append(("the system loader", LIB_NAME))
    return out


def _check_version(cdll: ctypes.CDLL, where: str) -> None:
    fn = cdll.vt_version_number
    fn.argtypes = ()
    fn.restype = ctypes.c_uint32
    number = int(fn())
    major = number // 1_000_000
    if major != SUPPORTED_MAJOR:
        raise LibraryVersionError(
            f"{where} is libvoicetelemetry {major}.{number // 1000 % 1000}.{number % 1000} "
            f"(vt_version_number() = {number}), but this Python package was written for major "
            f"version {SUPPORTED_MAJOR}; install a matching library or package"
        )
    if number < MIN_VERSION_NUMBER:
        raise LibraryVersionError(
            f"{where} is libvoicetelemetry version number {number}; this package needs at least "
            f"{MIN_VERSION_NUMBER}"
        )


def load(
    path: Optional[str] = None,
    environ: Optional[Mapping[str, str]] = None,
    package_dir: Optional[Path] = None,
) -> Tuple[ctypes.CDLL, ctypes.PyDLL, str]:
    """Load the library and check its version.

    Returns ``(cdll, pydll, where)``: two handles on the same library -- ``cdll`` releases the GIL
    around each call (for calls that may block), ``pydll`` keeps it (for short lock-free calls) --
    and the path or name that was loaded. ``path`` skips the search.
    """
    places = [(f"path {path}", path)] if path else candidates(environ, package_dir)
    tried: List[Tuple[str, str]] = []
    for place, target in places:
        if target is None:
            tried.append((place, "nothing found"))
            continue
        if os.sep in target and not os.path.exists(target):
            tried.append((f"{place} ({target})" if target not in place else place, "no such file"))
            continue
        try:
            cdll = ctypes.CDLL(target)
            pydll = ctypes.PyDLL(target)
        except OSError as exc:
            tried.append((f"{place} ({target})" if target not in place else place, str(exc)))
            continue
        try:
            _check_version(cdll, target)
        except AttributeError as exc:
            tried.append((f"{place} ({target})", f"not libvoicetelemetry: {exc}"))
            continue
        return cdll, pydll, target
    raise LibraryNotFoundError(tried)
