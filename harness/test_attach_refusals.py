# test_attach_refusals: issue 13's attach and Secure9P bugs (5, 6, 7, 13) against the board hive, as an operator and a 9P client see them.
"""Each test is named for the bug it proves fixed. Tickets are minted by js/tickets (host/node/mint-ticket.js)
with the spec §8.3 dev secrets; the board hive runs root-task, NineDoor and its workers as in a dev image."""
import struct

from hive_ops import EACCES, EINVAL, O_APPEND, O_WRONLY, Errno, Ninep, Operator, boot_board
from hivekit import AUTH_TOKEN
from ninep_server import mint_ticket

EBADF = 9
O_RDONLY = 0
RVERSION = 101
RLERROR = 7
TLCREATE = 14
TMKDIR = 72
QUEEN_LOG = "/log/queen.log"


def read_all(n: Ninep, fid: int) -> bytes:
    """Reads a file whole as a client asking for 64 bytes at a time would: several reads and the one at EOF."""
    out = b""
    while True:
        d = n.read(fid, count=64, offset=len(out))
        assert not isinstance(d, Errno), f"read at {len(out)}: {d!r}"
        if not d:
            return out
        out += d


def raw_rpc(n: Ninep, type_: int, tag: int, body: bytes) -> tuple[int, bytes]:
    """One request of a type Ninep has no method for; the reply's type and body."""
    n.sock.sendall(struct.pack("<IBH", 7 + len(body), type_, tag) + body)
    size, rtype, rtag = struct.unpack("<IBH", n._exact(7))
    assert rtag == tag
    return rtype, n._exact(size - 7)


def pstr(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<H", len(b)) + b


def test_scoped_ticket_cat_reads_first_time(hive):
    # Bug 5: `ATTACH queen <scoped ticket>` then `CAT /log/queen.log` was refused at its first read
    # (`reason=quota detail=buffer-full`, log `ui-ticket outcome=deny reason=rate`): each Tread of
    # the CAT spent the scope's rate. The spec §8.3 scope: /log read 1/s.
    sim = boot_board(hive, ninep=True, uart="none")
    ticket = mint_ticket("queen", scopes=["/log:read:1", "/queen:write:0"])
    op = Operator(sim.port)
    op.auth_attach("queen", ticket)
    # The boot lines are there: the console reads them (open, getattr, read, read at EOF).
    r = op.request(f"CAT {QUEEN_LOG}")
    assert r[0].startswith(f"OK CAT path={QUEEN_LOG} data=") and r[-1] == "END", r
    assert "ui-ticket outcome=deny" not in sim.log.text(), sim.log.text()[-800:]
    # A scope miss is still refused.
    r = op.request("CAT /proc/boot")
    assert r[0].startswith("ERR CAT reason=policy"), r
    # Over 9P the same ticket and scope read the same file whole: the open is the one access.
    n = Ninep(sim.ninep_port)
    assert not isinstance(n.version(), Errno)
    assert not isinstance(n.attach(0, ticket), Errno)
    assert not isinstance(n.walk(0, 1, ["log", "queen.log"]), Errno)
    assert not isinstance(n.lopen(1, O_RDONLY), Errno)
    assert b"reason=boot-complete\n" in read_all(n, 1)


def test_expired_ticket_answers_expired_twice(hive):
    # Bug 6: a genuine but expired queen ticket counted as a credential failure, so the second
    # ATTACH with it was `throttled delay_ms=...` (telemetry_ring.coh expects `expired` both times).
    sim = boot_board(hive, ninep=True, uart="none")
    expired = mint_ticket("queen", ttl_s=1, issued_ms=0)
    op = Operator(sim.port)
    assert op.request(f"AUTH {AUTH_TOKEN}") == ["OK AUTH"]
    for _ in range(4):
        assert op.request(f"ATTACH queen {expired}") == ["ERR ATTACH reason=quota detail=expired"]
    # Nothing was escalated: a good attach from the same source goes through at once.
    assert op.request("ATTACH queen") == ["OK ATTACH role=queen"]
    # A forged ticket is still a failure, and throttles the next attempt.
    forged = mint_ticket("queen", secret="not-the-secret")
    assert op.request(f"ATTACH queen {forged}") == ["ERR ATTACH reason=policy detail=denied"]
    assert op.request(f"ATTACH queen {expired}")[0].startswith("ERR ATTACH reason=quota detail=throttled delay_ms=")
    # 9P answers an expired ticket EACCES every time, as it does a forged one.
    for aname in [expired, expired, forged, expired]:
        n = Ninep(sim.ninep_port)
        n.version()
        assert n.attach(0, aname) == Errno(EACCES), aname
        n.close()


def test_empty_aname_does_not_attach_queen(hive):
    # Bug 7: aname '' with a uname that names no role (a Linux v9fs mount's default) attached as queen.
    sim = boot_board(hive, ninep=True, uart="none")
    for uname in ["", "nobody", "root", "1000"]:
        n = Ninep(sim.ninep_port)
        n.version()
        assert n.attach(0, "", uname=uname) == Errno(EACCES), uname
        # The refused attach left no fid: walking from it is EBADF.
        assert n.walk(0, 1, ["queen", "ctl"]) == Errno(EBADF), uname
        n.close()
    # The ticketless queen of a dev image is reached by naming it: aname `queen` (standard clients).
    n = Ninep(sim.ninep_port)
    n.version()
    assert not isinstance(n.attach(0, "queen", uname="nobody"), Errno)
    assert not isinstance(n.walk(0, 1, ["queen", "ctl"]), Errno)


def test_version_9p2000_lx_is_unknown(hive):
    # Bug 13c: any version string beginning 9P2000.L was taken.
    sim = boot_board(hive, ninep=True, uart="none")
    for version, answer in [("9P2000.Lx", b"unknown"), ("9P2000.L-extra", b"unknown"), ("9P2000.L.Google.7", b"9P2000.L"),
                            ("9P2000.L", b"9P2000.L")]:
        n = Ninep(sim.ninep_port)
        rtype, body = raw_rpc(n, 100, 0xFFFF, struct.pack("<I", 8192) + pstr(version))
        assert rtype == RVERSION and body[6:] == answer, (version, body)
        got = n.attach(0, "queen")
        if answer == b"unknown":
            assert got == Errno(EINVAL), version  # not versioned: nothing else is served
        else:
            assert not isinstance(got, Errno), version
        n.close()


def test_tlcreate_on_unbound_fid_is_ebadf(hive):
    # Bug 13b: Tlcreate on a fid the session never bound answered EPERM; an unknown fid is EBADF first.
    sim = boot_board(hive, ninep=True, uart="none")
    n = Ninep(sim.ninep_port)
    n.version()
    assert not isinstance(n.attach(0, "queen"), Errno)
    lcreate = lambda fid: struct.pack("<I", fid) + pstr("new") + struct.pack("<III", 0, 0o644, 0)
    rtype, body = raw_rpc(n, TLCREATE, 5, lcreate(77))
    assert (rtype, struct.unpack("<I", body)[0]) == (RLERROR, EBADF)
    rtype, body = raw_rpc(n, TMKDIR, 6, struct.pack("<I", 77) + pstr("d") + struct.pack("<II", 0o755, 0))
    assert (rtype, struct.unpack("<I", body)[0]) == (RLERROR, EBADF)
    # On a fid it holds, the namespace is still not mutable by clients: EPERM (spec §0).
    rtype, body = raw_rpc(n, TLCREATE, 7, lcreate(0))
    assert (rtype, struct.unpack("<I", body)[0]) == (RLERROR, 1)


def test_non_utf8_queen_ctl_write_is_kept_as_invalid_payload(hive):
    # Bug 13a: spec §7 keeps the raw write before parsing; a non-UTF-8 write was refused unkept.
    sim = boot_board(hive, ninep=True, uart="none")
    n = Ninep(sim.ninep_port)
    n.version()
    assert not isinstance(n.attach(0, "queen"), Errno)
    assert not isinstance(n.walk(0, 1, ["queen", "ctl"]), Errno)
    assert not isinstance(n.lopen(1, O_WRONLY | O_APPEND), Errno)
    bad = b'{"kill":"\xc0\x80"}\n'
    assert n.write(1, bad) == Errno(EINVAL)
    assert not isinstance(n.walk(0, 2, ["queen", "ctl"]), Errno)
    assert not isinstance(n.lopen(2, O_RDONLY), Errno)
    assert read_all(n, 2).endswith(bad)
    # The hive serves on: a good line after it applies.
    op = Operator(sim.port)
    op.auth_attach()
    assert op.request("PING") == ["OK PING reply=pong"]
