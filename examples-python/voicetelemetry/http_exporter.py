"""The process's HTTP endpoint with one call: :func:`serve` loads ``http_exporter.so``.

The plugin runs its own threads (the recording threads pay nothing) and serves ``/metrics`` (the
negotiation of :mod:`voicetelemetry.exposition`), the JSON API of live sessions ``/api/v1/...``,
``/healthz`` and the dashboard at ``/`` (``docs/http.md``)::

    import voicetelemetry as vt

    with vt.serve("127.0.0.1:0") as endpoint:     # port 0: the system picks a free one
        print(endpoint.url)                         # e.g. http://127.0.0.1:41237
        ...                                         # sessions, turns, ...

Finding the plugins that ship with the library (:func:`find_plugin`; the first existing file wins):

1. ``$VOICETELEMETRY_PLUGINS/<name>`` -- when that variable is set, the only place tried.
2. ``plugins/<name>`` next to this package, for wheels that ship the plugins.
3. ``voicetelemetry/plugins/<name>`` beside the loaded library: ``make install``'s layout
   (``$PREFIX/lib/libvoicetelemetry.so``, ``$PREFIX/lib/voicetelemetry/plugins/``).
4. ``../plugins/<name>`` from the loaded library: the build tree (``build/lib``, ``build/plugins``).

A NotFoundError names every place tried.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any, List, Mapping, Optional, Tuple

from . import _raw
from ._loader import LIB_NAME
from ._util import invalid
from .errors import error_for_status
from .plugins import Plugin, load_plugin

__all__ = ["PLUGINS_ENV_VAR", "HTTP_EXPORTER", "find_plugin", "HTTPExporter", "serve"]

#: Environment variable naming the directory of the bundled plugins explicitly.
PLUGINS_ENV_VAR = "VOICETELEMETRY_PLUGINS"
#: File name of the HTTP endpoint plugin.
HTTP_EXPORTER = "http_exporter.so"
#: How long :func:`serve` waits for the plugin to report its port.
PORT_FILE_TIMEOUT_S = 5.0

_PACKAGE_DIR = Path(__file__).resolve().parent


def _library_dir() -> Optional[Path]:
    """The directory of the loaded libvoicetelemetry.so (also when the system loader found it)."""
    if os.sep in _raw.LIBRARY_PATH:
        return Path(_raw.LIBRARY_PATH).resolve().parent
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                path = line.rstrip("\n").split(" ")[-1]
                if path.endswith("/" + LIB_NAME):
                    return Path(path).parent
    except OSError:
        pass
    return None


def plugin_candidates(name: str, environ: Optional[Mapping[str, str]] = None) -> List[Tuple[str, Path]]:
    """The places :func:`find_plugin` tries for ``name``, in order, as (description, path) pairs."""
    env = os.environ if environ is None else environ
    explicit = env.get(PLUGINS_ENV_VAR)
    if explicit:
        return [(f"${PLUGINS_ENV_VAR}={explicit}", Path(explicit) / name)]
    out = [("next to the package", _PACKAGE_DIR / "plugins" / name)]
    libdir = _library_dir()
    if libdir is not None:
        out.append(("beside the library (make install)", libdir / "voicetelemetry" / "plugins" / name))
        out.append(("the library's build tree", libdir.parent / "plugins" / name))
    return out


def find_plugin(name: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """The path of the bundled plugin ``name`` (e.g. ``"http_exporter.so"``, ``"otlp_sink.so"``).

    Searched as the module's documentation says; NotFoundError lists every place tried.
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise invalid(f"plugin name must be a file name such as {HTTP_EXPORTER!r}, got {name!r}")
    places = plugin_candidates(name, environ)
    for _, path in places:
        if path.is_file():
            return str(path)
    tried = "\n".join(f"  - {place}: {path}: no such file" for place, path in places)
    raise error_for_status(_raw.VT_E_NOT_FOUND, f"could not find {name}; tried, in order:\n{tried}\n"
                           f"Build it with `make lib`, or set {PLUGINS_ENV_VAR} to its directory.")


class HTTPExporter:
    """A running ``http_exporter.so``: :attr:`port`, :attr:`url`, :meth:`close` (a context manager)."""

    def __init__(self, plugin: Plugin, host: str, port: int, tmpdir: Optional[str]) -> None:
        self._plugin = plugin
        self._host = host
        self._port = port
        self._tmpdir = tmpdir

    @property
    def plugin(self) -> Plugin:
        """The loaded plugin (its statistics: ``.plugin.stats()``)."""
        return self._plugin

    @property
    def port(self) -> int:
        """The TCP port it listens on (the one the system chose for port 0)."""
        return self._port

    @property
    def url(self) -> str:
        """``http://host:port`` (no trailing slash); a wildcard address shows as loopback."""
        return f"http://{self._host}:{self._port}"

    def close(self) -> None:
        """Stop serving (unload the plugin: open connections are closed). Idempotent."""
        try:
            self._plugin.unload()
        finally:
            if self._tmpdir is not None:
                shutil.rmtree(self._tmpdir, ignore_errors=True)
                self._tmpdir = None

    def __enter__(self) -> "HTTPExporter":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "serving" if self._plugin.loaded else "closed"
        return f"<voicetelemetry.HTTPExporter {self.url} {state}>"


def _url_host(listen: str) -> str:
    host = listen.rpartition(":")[0]
    if host in ("", "0.0.0.0", "*"):
        return "127.0.0.1"
    if host in ("[::]", "::"):
        return "[::1]"
    return host


def _read_port(port_file: str, plugin: Plugin) -> int:
    """The port the plugin wrote to ``port_file`` (its decimal number, possibly ``host:port``)."""
    deadline = time.monotonic() + PORT_FILE_TIMEOUT_S
    while True:
        try:
            text = Path(port_file).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            text = ""
        port = text.rpartition(":")[2]
        if port.isdigit():
            return int(port)
        if time.monotonic() >= deadline:
            raise error_for_status(_raw.VT_E_PLUGIN, f"{plugin.name} did not write its port to "
                                   f"{port_file} within {PORT_FILE_TIMEOUT_S} s (read {text!r})")
        time.sleep(0.01)


def serve(listen: str = "127.0.0.1:9464", *, token: Optional[str] = None, plugin_path: Optional[str] = None,
          **options: Any) -> HTTPExporter:
    """Serve the process's endpoint on ``listen`` (``"host:port"``; port 0 = a free one): loads
    ``http_exporter.so`` (found with :func:`find_plugin` unless ``plugin_path`` is given).

    token: when set, every path but ``/healthz`` needs ``Authorization: Bearer <token>``.
    options: further keys of the plugin's config (``docs/http.md``), and the host's own plugin keys
    (``drain_timeout_ms``, ...). Without ``port_file`` among them a private temporary file is used
    to learn the port. One endpoint per process: plugin names are unique among loaded plugins.
    Raises what :func:`~voicetelemetry.load_plugin` raises -- PluginError with the plugin's reason
    (the address is in use, a bad config value, an endpoint is already served) --, NotFoundError
    when the plugin is not found.
    """
    if not isinstance(listen, str) or ":" not in listen:
        raise invalid(f"listen must be 'host:port', got {listen!r}")
    path = plugin_path if plugin_path is not None else find_plugin(HTTP_EXPORTER)
    tmpdir = None
    config = dict(options, listen=listen)
    if token is not None:
        config["token"] = token
    if "port_file" not in config:
        tmpdir = tempfile.mkdtemp(prefix="vt-http-")
        config["port_file"] = os.path.join(tmpdir, "port")
    try:
        plugin = load_plugin(path, config)
    except BaseException:
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    try:
        port = _read_port(config["port_file"], plugin)
    except BaseException:
        plugin.unload()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return HTTPExporter(plugin, _url_host(listen), port, tmpdir)
