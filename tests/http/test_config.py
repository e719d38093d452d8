"""The plugin's config: defaults, port_file, unknown keys, and bad values refused at load with a message
naming the key (vt_load_plugin fails with the plugin's text)."""
from __future__ import annotations

import contextlib
import socket

import pytest

from conftest import EngineError, get
from test_robustness import AsanHost


def test_port_file_holds_the_bound_port_and_nothing_is_left_beside_it(start_engine, tmp_path):
    e = start_engine()
    port_file = e.config["port_file"]
    text = open(port_file).read()
    assert text == f"{e.port}\n" and e.port > 0
    assert get(e.port, "/healthz").body == b"ok"
    import os
    assert os.listdir(os.path.dirname(port_file)) == ["engine.err", "port"]  # the temporary was renamed


def test_unknown_keys_are_ignored(start_engine):
    e = start_engine(queue_capacity=2048, some_future_key={"x": [1, 2]}, comment="hello")
    assert get(e.port, "/healthz").status == 200


def test_the_default_address_is_loopback_port_9464(tmp_path):
    """Without 'listen' the plugin binds 127.0.0.1:9464. Checked without serving there: the test holds
    that address (or someone else does), so init must fail naming it."""
    holder = socket.socket()
    with contextlib.suppress(OSError):
        holder.bind(("127.0.0.1", 9464))
        holder.listen(1)
    try:
        assert refused(tmp_path, listen=None) == "listen 127.0.0.1:9464: Address already in use"
    finally:
        holder.close()


def test_an_engine_listens_on_loopback_only(start_engine):
    e = start_engine()
    local = [line.split()[1] for line in open("/proc/net/tcp").read().splitlines()[1:]
             if line.split()[3] == "0A" and int(line.split()[1].split(":")[1], 16) == e.port]  # TCP_LISTEN
    assert local == [f"0100007F:{e.port:04X}"]  # 127.0.0.1, little-endian hex


BAD = {
    "max_connections": (0, "config: 'max_connections' must be an integer from 1 to 100000"),
    "max_header_bytes": (100, "config: 'max_header_bytes' must be an integer from 256 to 1048576"),
    "request_timeout_ms": ("5000", "config: 'request_timeout_ms' must be an integer from 10 to 3600000"),
    "idle_timeout_ms": (1.5, "config: 'idle_timeout_ms' must be an integer from 10 to 86400000"),
    "sse_max_clients": (-1, "config: 'sse_max_clients' must be an integer from 0 to 10000"),
    "sse_queue_events": (0, "config: 'sse_queue_events' must be an integer from 1 to 65536"),
    "sse_heartbeat_ms": (True, "config: 'sse_heartbeat_ms' must be an integer from 10 to 3600000"),
    "threads": (17, "config: 'threads' must be an integer from 1 to 16"),
    "gzip_level": (0, "config: 'gzip_level' must be an integer from 1 to 9"),
    "token": (42, "config: 'token' must be a string"),
    "port_file": (["x"], "config: 'port_file' must be a string"),
}


def refused(tmp_path, **cfg) -> str:
    """The init failure of the plugin (ASan build, scripted host: fast, and checks the parser)."""
    h = AsanHost(tmp_path, **cfg)
    h.proc.stdin.close()
    assert h.proc.wait(10) == 1 and h.first.startswith("init failed: "), h.first
    return h.first[len("init failed: "):]


@pytest.mark.parametrize("key", list(BAD))
def test_bad_values_are_refused_with_the_key_named(tmp_path, key):
    value, message = BAD[key]
    assert refused(tmp_path, **{key: value}) == message


def test_a_bad_value_fails_vt_load_plugin_with_the_plugins_message(start_engine):
    with pytest.raises(EngineError) as err:
        start_engine(max_connections=0)
    assert "config: 'max_connections' must be an integer from 1 to 100000" in str(err.value)


@pytest.mark.parametrize("listen, message", [
    ("nonsense", "config: 'listen' must be host:port (e.g. 127.0.0.1:9464, [::1]:0), not 'nonsense'"),
    ("127.0.0.1:", "config: 'listen' must be host:port"),
    (":9464", "config: 'listen' must be host:port"),
    ("127.0.0.1:99999", "config: 'listen' has a bad host or port: '127.0.0.1:99999'"),
    ("127.0.0.1:12ab", "config: 'listen' must be host:port"),
    ("", "config: 'listen' is empty"),
    ("no.such.host.invalid:0", "listen no.such.host.invalid:0: "),
])
def test_bad_listen_addresses(tmp_path, listen, message):
    assert refused(tmp_path, listen=listen).startswith(message)


def test_a_port_in_use_is_refused(start_engine):
    a = start_engine()
    with pytest.raises(EngineError) as err:
        start_engine(listen=f"127.0.0.1:{a.port}")
    assert f"listen 127.0.0.1:{a.port}: Address already in use" in str(err.value)


def test_a_token_with_spaces_is_refused(tmp_path):
    assert refused(tmp_path, token="two words") == "config: 'token' must be printable ASCII without spaces"


def test_config_that_is_not_an_object_or_not_json(tmp_path):
    assert refused(tmp_path, _raw="[1, 2]") == "config: not a JSON object"
    assert refused(tmp_path, _raw='{"listen": ') == "config: not valid JSON (expected a value at byte 11)"


def test_an_unwritable_port_file_is_refused(tmp_path):
    path = tmp_path / "no" / "such" / "dir" / "port"
    assert refused(tmp_path, port_file=str(path)) == f"port_file {path}: No such file or directory"


def test_ipv6_loopback(start_engine):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        e = start_engine(listen="[::1]:0")
    except EngineError as err:
        if "Cannot assign requested address" in str(err) or "Address family" in str(err):
            pytest.skip("no IPv6 loopback on this machine")
        raise
    with socket.create_connection(("::1", e.port), timeout=5) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: [::1]\r\nConnection: close\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")


def test_several_worker_threads_serve(start_engine):
    e = start_engine(threads=3)
    for _ in range(20):
        assert get(e.port, "/metrics").status == 200
