#!/usr/bin/env python3
"""Runs Provium against files whose outcome is known in advance and checks it.

Each file in tests/cases/ states what must happen in `-- expect-...:` comment
lines at its top (see tests/cases/README.md). Every check here drives the real
`provium` binary, real runners and real QEMU guests; nothing is mocked.

Prints one `ok`/`FAIL` line per check and, last, `cases: N passed, N failed`.
"""
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "tests" / "cases"
PROVIUM = Path(os.environ.get("PROVIUM", ROOT / "build" / "supervisor" / "provium"))
DIRECTIVE = re.compile(r"^--\s*expect-([a-z-]+): ?(.*)$")
RELEASE = re.compile(r"^release (\d+\.\d+\.\d+\.\d+):(\d+)$")

results = []  # (name, ok, detail)


def record(name, ok, detail=""):
    results.append((name, ok, detail))
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + ("" if ok else f"\n       {detail}"), flush=True)


def stray_processes():
    out = subprocess.run(["ps", "-eo", "pid=,comm="], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines()
            if line.split()[-1].startswith(("qemu-system", "provium-runner", "provium-agent", "provium-sandbox"))]


def run_provium(args, cwd=ROOT, timeout=600):
    """Run provium with a private TMPDIR; return (proc, leftovers)."""
    with tempfile.TemporaryDirectory(prefix="provium-case-") as tmp:
        env = dict(os.environ, TMPDIR=tmp)
        proc = subprocess.run([str(PROVIUM), *args], cwd=cwd, env=env, capture_output=True,
                              text=True, timeout=timeout)
        leftovers = [f"temp file {p}" for p in Path(tmp).rglob("*")]
    leftovers += [f"process {p}" for p in stray_processes()]
    return proc, leftovers


# --- A kernel-datapath run, watched from outside (expect-no-network-left) ---
#
# While the file runs, the watcher finds what the run made on the host: the
# network namespace the supervisor holds an fd to, the `prvup<N>` veth whose
# peer (`uplink`) is in that namespace, the names of the links inside it, and
# the run's QEMU processes. It then releases the guest (see the case file) and,
# once provium exited, asks the kernel again. The same `network_leftovers`
# runs while the file is still running and must then report every one of
# those, so a checker that could not see a leftover fails the case. (Checked
# by hand once more: a bind mount of the namespace made during the run was
# reported after it as "network namespace ... held by mount ...".)
# TAPs, bridges, nftables tables and qdiscs live in the namespace: they go
# with it. A namespace is alive while a process is in it or holds an fd to
# it, a mount holds it, or a socket or TAP opened in it is open; the last two
# are only ever held by the supervisor and the run's QEMUs, checked by pid.

NETNS = re.compile(r"^net:\[(\d+)\]$")
UPLINK_PEER = re.compile(r"^\d+: uplink@if(\d+):")
LINK_LINE = re.compile(r"^(\d+): ([^:@]+)(?:@[^:]*)?:")


def proc_table():
    """pid -> (ppid, comm, starttime) for every process."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        head, _, tail = text.rpartition(")")
        fields = tail.split()
        table[int(stat.parent.name)] = (int(fields[1]), head.partition("(")[2], fields[19])
    return table


def descendants(root, table):
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, (ppid, _, _) in table.items() if ppid in frontier and pid not in found}
        found |= frontier
    return found


def links(netns_path=None):
    """ifindex -> name of the links in the host's namespace, or in the one at netns_path."""
    argv = ["ip", "-o", "link", "show"]
    if netns_path:
        argv = ["nsenter", f"--net={netns_path}", *argv]
    out = subprocess.run(argv, capture_output=True, text=True).stdout
    return {int(m.group(1)): m.group(2) for m in map(LINK_LINE.match, out.splitlines()) if m}


def netns_fds(pid):
    """inode -> /proc path of the network namespaces `pid` holds an fd to."""
    held = {}
    for fd in Path(f"/proc/{pid}/fd").glob("*"):
        try:
            match = NETNS.match(os.readlink(fd))
        except OSError:
            continue
        if match:
            held[int(match.group(1))] = str(fd)
    return held


def netns_holders(inode):
    """Every process (or thread) that is in, or holds an fd to, network namespace `inode`."""
    wanted, holders = f"net:[{inode}]", []
    for pattern in ("[0-9]*/ns/net", "[0-9]*/task/*/ns/net", "[0-9]*/fd/*"):
        for entry in Path("/proc").glob(pattern):
            try:
                if os.readlink(entry) == wanted:
                    holders.append(str(entry))
            except OSError:
                continue
    # A bind mount of the namespace file (as `ip netns add` makes) holds it too.
    holders += [f"mount {line.split()[4]}" for line in Path("/proc/self/mountinfo").read_text().splitlines()
                if wanted in line.split()[3:4]]
    return holders


def observe_run(pid):
    """What the run made, once its uplink exists; None before."""
    table = proc_table()
    tree = descendants(pid, table)
    qemus = {p: table[p][2] for p in tree if table[p][1].startswith("qemu-system")}
    host = links()
    for inode, path in netns_fds(pid).items():
        inside = subprocess.run(["nsenter", f"--net={path}", "ip", "-o", "link", "show", "uplink"],
                                capture_output=True, text=True).stdout
        match = UPLINK_PEER.match(inside)
        if match and host.get(int(match.group(1)), "").startswith("prvup") and len(qemus) >= 2:
            index = int(match.group(1))
            return {"netns": inode, "netns_path": path, "veth": (index, host[index]),
                    "inner_links": set(links(path).values()), "qemus": qemus}
    return None


def network_leftovers(seen, host_before):
    """What of the observed run still exists, asked of the kernel."""
    left = []
    index, name = seen["veth"]
    if links().get(index) == name:
        left.append(f"uplink veth {name} (ifindex {index})")
    left += [f"network namespace net:[{seen['netns']}] held by {h}" for h in netns_holders(seen["netns"])]
    table = proc_table()
    left += [f"qemu pid {p}" for p, start in seen["qemus"].items() if p in table and table[p][2] == start]
    # A link of the namespace that a teardown had moved to the host instead of deleting.
    moved = (set(links().values()) - set(host_before.values())) & (seen["inner_links"] - {"lo"})
    left += [f"link {n} now in the host's namespace" for n in sorted(moved)]
    return left


RELEASE_SCRIPT = """
import socket, sys, time
host, port, deadline = sys.argv[1], int(sys.argv[2]), time.time() + 120
while True:
    try:
        with socket.create_connection((host, port), timeout=5) as s:
            s.sendall(b"go\\n")
        break
    except OSError as error:
        if time.time() > deadline:
            sys.exit(f"cannot reach the guest at {host}:{port}: {error}")
        time.sleep(0.5)
"""


def run_provium_watching_network(args, release, timeout=600):
    """Runs provium, watches its network, releases the guest; returns (proc, leftovers, problems)."""
    problems = []
    host_before = links()
    with tempfile.TemporaryDirectory(prefix="provium-case-") as tmp:
        env = dict(os.environ, TMPDIR=tmp)
        proc = subprocess.Popen([str(PROVIUM), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        seen, deadline = None, time.time() + 300
        while seen is None and proc.poll() is None and time.time() < deadline:
            time.sleep(0.3)
            seen = observe_run(proc.pid)
        if seen is None:
            problems.append("never saw the run's namespace, uplink veth and two QEMUs while it ran")
        else:
            # The checker itself: everything must read as left behind now.
            now = network_leftovers(seen, host_before)
            for kind in ("uplink veth", "network namespace", "qemu pid"):
                if not any(item.startswith(kind) for item in now):
                    problems.append(f"the checker does not see the running file's {kind}: {now}")
            released = subprocess.run(["nsenter", f"--net={seen['netns_path']}", sys.executable, "-c",
                                       RELEASE_SCRIPT, release[0], str(release[1])],
                                      capture_output=True, text=True)
            if released.returncode != 0:
                problems.append(f"releasing the guest failed: {released.stderr.strip()}")
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            problems.append("provium did not finish")
        proc = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        leftovers = [f"temp file {p}" for p in Path(tmp).rglob("*")]
    if seen is not None:
        # The kernel dismantles a namespace on a work queue once its last
        # reference is gone: allow it time, as a failure gate only.
        gate = time.time() + 60
        left = network_leftovers(seen, host_before)
        while left and time.time() < gate:
            time.sleep(0.5)
            left = network_leftovers(seen, host_before)
        leftovers += left
    leftovers += [f"process {p}" for p in stray_processes()]
    return proc, leftovers, problems


def parse_expectations(path):
    spec = {"args": [], "tests": [], "text": [], "exit": None, "file": None,
            "chunk": None, "crash": None, "release": None}
    for line in path.read_text().splitlines():
        match = DIRECTIVE.match(line)
        if not match:
            continue
        key, value = match.groups()
        if key == "args":
            spec["args"] += shlex.split(value)
        elif key == "exit":
            spec["exit"] = int(value)
        elif key == "file":
            spec["file"] = value.strip()
        elif key == "test":
            parts = shlex.split(value)
            spec["tests"].append((parts[0], parts[1], parts[2] if len(parts) > 2 else None))
        elif key == "chunk-error":
            spec["chunk"] = shlex.split(value)[0]
        elif key == "crash":
            spec["crash"] = shlex.split(value)[0]
        elif key == "text":
            spec["text"].append(value)
        elif key == "no-network-left":
            match = RELEASE.match(value.strip())
            if not match:
                raise SystemExit(f"{path}: expect-no-network-left wants `release ADDRESS:PORT`, got {value!r}")
            spec["release"] = (match.group(1), int(match.group(2)))
        else:
            raise SystemExit(f"{path}: unknown directive expect-{key}")
    return spec


def check_file_object(spec, obj):
    """Compare one --json file object with the expectations; return problems."""
    problems = []
    if spec["file"] and obj.get("status") != spec["file"]:
        problems.append(f"file status {obj.get('status')!r}, expected {spec['file']!r}")
    if spec["file"]:
        want_passed = spec["file"] == "passed"
        if obj.get("passed") != want_passed:
            problems.append(f"passed={obj.get('passed')}, expected {want_passed}")
        want_timeout = "timed_out" if spec["file"] == "timed_out" else "in_time"
        if obj.get("timeout") != want_timeout:
            problems.append(f"timeout={obj.get('timeout')!r}, expected {want_timeout!r}")
    if spec["chunk"] and spec["chunk"] not in (obj.get("chunk_error") or ""):
        problems.append(f"chunk_error {obj.get('chunk_error')!r} lacks {spec['chunk']!r}")
    if spec["crash"] and spec["crash"] not in json.dumps(obj):
        problems.append(f"crash reason {spec['crash']!r} not reported: {json.dumps(obj)[:400]}")
    tests = {t["name"]: t for t in obj.get("tests", [])}
    for name, status, needle in spec["tests"]:
        got = tests.get(name)
        if got is None:
            problems.append(f"test {name!r} missing from the report")
            continue
        if got["status"] != status:
            problems.append(f"test {name!r} is {got['status']!r} ({got.get('message')!r}), expected {status!r}")
        if needle and needle not in (got.get("message") or ""):
            problems.append(f"test {name!r} message {got.get('message')!r} lacks {needle!r}")
    return problems


def check_case(path):
    spec = parse_expectations(path)
    rel = str(path.relative_to(ROOT))
    base = ["--test-hooks", *spec["args"]]
    problems = []
    if spec["release"]:
        proc, leftovers, problems = run_provium_watching_network([*base, "--json", rel], spec["release"])
    else:
        proc, leftovers = run_provium([*base, "--json", rel])
    if spec["exit"] is not None and proc.returncode != spec["exit"]:
        problems.append(f"exit code {proc.returncode}, expected {spec['exit']}")
    objects = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    if len(objects) != 1:
        problems.append(f"expected one JSON object, got {len(objects)}; stdout={proc.stdout[:300]!r} stderr={proc.stderr[-600:]!r}")
    else:
        problems += check_file_object(spec, objects[0])
    if spec["text"]:
        text_proc, more = run_provium([*base, rel])
        leftovers += more
        for wanted in spec["text"]:
            line = wanted.replace("{path}", rel)
            if line not in text_proc.stdout.splitlines():
                problems.append(f"text output lacks line {line!r}:\n{text_proc.stdout}")
    problems += [f"left behind: {item}" for item in leftovers]
    record(f"case {path.name}", not problems, "; ".join(problems))
    return spec


def check_run_goes_on(specs):
    """All plain cases in one run: a crashing file must not stop the others."""
    plain = [p for p, s in specs.items() if not s["args"]]
    proc, leftovers = run_provium(["--test-hooks", "--json", *[str(p.relative_to(ROOT)) for p in plain]])
    objects = {o["path"]: o for o in (json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{"))}
    problems = [f"left behind: {item}" for item in leftovers]
    for path in plain:
        obj = objects.get(str(path.relative_to(ROOT)))
        if obj is None:
            problems.append(f"{path.name} missing from a combined run")
        else:
            problems += [f"{path.name}: {p}" for p in check_file_object(specs[path], obj)]
    if proc.returncode != 1:
        problems.append(f"combined run exit code {proc.returncode}, expected 1")
    record("the run goes on past crashed, timed-out and failed files", not problems, "; ".join(problems))


def check_config_errors():
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "provium.toml"
        config.write_text('[provium]\nroots = ["tests"]\n\n[profiles.fast]\nkernel = "/k"\ninitrd = "/i"\ncmdline = ""\n')
        proc, leftovers = run_provium(["--config", str(config), "examples"])
        text = proc.stdout + proc.stderr
        ok = proc.returncode == 2 and f"{config}:7" in text and "cmdline" in text and not leftovers
        record("a bad provium.toml exits 2 naming file, line and key", ok, f"exit={proc.returncode} output={text!r}")

        config.write_text('[provium]\nroots = "tests"\n')
        proc, _ = run_provium(["--config", str(config), "examples"])
        text = proc.stdout + proc.stderr
        ok = proc.returncode == 2 and f"{config}:2" in text and "roots" in text
        record("a mistyped provium.toml key exits 2 naming it", ok, f"exit={proc.returncode} output={text!r}")

        config.write_text('[provium\n')
        proc, _ = run_provium(["--config", str(config), "examples"])
        ok = proc.returncode == 2 and str(config) in proc.stdout + proc.stderr
        record("unparsable provium.toml exits 2 naming the file", ok, f"exit={proc.returncode} output={proc.stderr!r}")

    proc, _ = run_provium(["-v", "-q", "examples"])
    record("mutually exclusive -v and -q exit 2", proc.returncode == 2, f"exit={proc.returncode}")
    proc, _ = run_provium(["--timeout", "soon", "examples"])
    ok = proc.returncode == 2 and "soon" in proc.stdout + proc.stderr
    record("a bad --timeout exits 2 naming the input", ok, f"exit={proc.returncode} {proc.stderr!r}")


def newc_entries(data):
    """Parses an uncompressed newc cpio into (name, mode, body) tuples."""
    entries, offset = [], 0
    while True:
        header = data[offset:offset + 110]
        fields = [int(header[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        mode, filesize, namesize = fields[1], fields[6], fields[11]
        name_start = offset + 110
        name = data[name_start:name_start + namesize - 1].decode()
        body_start = (name_start + namesize + 3) & ~3
        body = data[body_start:body_start + filesize]
        offset = (body_start + filesize + 3) & ~3
        if name == "TRAILER!!!":
            return entries
        entries.append((name, mode, body))


def newc_archive(entries):
    out = bytearray()
    for index, (name, mode, body) in enumerate(entries + [("TRAILER!!!", 0, b"")]):
        encoded = name.encode() + b"\0"
        fields = [index + 1, mode, 0, 0, 1, 0, len(body), 0, 0, 0, 0, len(encoded), 0]
        out += b"070701" + b"".join(b"%08X" % f for f in fields) + encoded
        out += b"\0" * (-len(out) % 4) + body
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def check_user_initrd():
    """A profile with the user's own gzip initrd: the agent is appended and the user's /init keeps PID 1."""
    import gzip
    guest = ROOT / "build" / "guest"
    entries = [e for e in newc_entries((guest / "initramfs.cpio").read_bytes()) if e[0] != "init"]
    user_init = b"#!/bin/sh\necho ran > /run/user-init-ran\nwhile true; do sleep 3600; done\n"
    entries.append(("init", 0o100755, user_init))
    with tempfile.TemporaryDirectory(prefix="provium-case-") as tmp:
        initrd = Path(tmp) / "user-initrd.cpio.gz"
        initrd.write_bytes(gzip.compress(newc_archive(entries)))
        (Path(tmp) / "provium.toml").write_text(
            f'[profiles.mine]\nkernel = "{guest / "vmlinux"}"\ninitrd = "{initrd}"\n'
            f'cmdline = "{(guest / "cmdline").read_text().strip()}"\n')
        (Path(tmp) / "mine.test.lua").write_text(
            'test("the user init runs as PID 1 beside the agent", function(t)\n'
            '  local vm = provium:vm("u", "mine"):boot()\n'
            '  t:assert_eq(vm:run("cat /proc/1/cmdline | tr \'\\\\0\' \' \'").stdout, "/bin/sh /init ")\n'
            '  t:assert_eq(vm:read_file("/run/user-init-ran"), "ran\\n")\n'
            'end)\n')
        proc, leftovers = run_provium(["--config", str(Path(tmp) / "provium.toml"), "--json",
                                       str(Path(tmp) / "mine.test.lua")])
        objects = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
        ok = proc.returncode == 0 and len(objects) == 1 and objects[0]["passed"] and not leftovers
        record("a user's own gzip initrd gets the agent appended and keeps its /init", ok,
               f"exit={proc.returncode} out={proc.stdout[-600:]!r} err={proc.stderr[-400:]!r} leftovers={leftovers}")


def check_interrupt():
    """Ctrl-C while a guest is running leaves nothing behind."""
    with tempfile.TemporaryDirectory(prefix="provium-case-") as tmp:
        test_dir = Path(tmp) / "t"
        test_dir.mkdir()
        (test_dir / "sleepy.test.lua").write_text(
            'test("sleeps", function(t)\n'
            '  provium:vm("v", "default"):boot():run("sleep 600")\nend)\n')
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        env = dict(os.environ, TMPDIR=str(scratch))
        proc = subprocess.Popen([str(PROVIUM), str(test_dir)], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 120
        while time.time() < deadline and not any("qemu-system" in p for p in stray_processes()):
            time.sleep(0.2)
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        time.sleep(0.5)
        leftovers = stray_processes() + [str(p) for p in scratch.rglob("*")]
        ok = proc.returncode == 1 and "interrupted" in (out + err) and not leftovers
        record("Ctrl-C mid-test stops the run and leaves nothing behind", ok,
               f"exit={proc.returncode} leftovers={leftovers} stderr={err[-300:]!r}")


FIXTURE_SOURCE = (
    'local vm = provium:vm("base", "default"):boot()\n'
    'vm:write_file("/tmp/marker", "made by the fixture")\n'
    'return vm:snapshot()\n')
FIXTURE_TEST = (
    'test("uses the fixture", function(t)\n'
    '  t:assert_eq(provium:vm_fixture("base"):read_file("/tmp/marker"), "made by the fixture")\n'
    'end)\n')


# The build-killed check needs a build that cannot finish before the kill: it
# waits in the guest long after QEMU starts, which is when the check kills it.
SLOW_FIXTURE_SOURCE = FIXTURE_SOURCE.replace("return vm:snapshot()", 'vm:run("sleep 8")\nreturn vm:snapshot()')


def fixture_project(tmp, name="project", source=FIXTURE_SOURCE):
    """A test dir with one fixture and a provium.toml keeping caches inside `tmp`."""
    project = Path(tmp) / name
    project.mkdir()
    (project / "base.fixture.lua").write_text(source)
    (project / "uses.test.lua").write_text(FIXTURE_TEST)
    (project / "provium.toml").write_text(
        f'[provium]\ncache_dir = "{tmp}/cache"\nsnapshot_dir = "{tmp}/snapshots"\n')
    return project


def provium_in(project, scratch):
    return subprocess.Popen([str(PROVIUM), "--config", str(project / "provium.toml"), str(project)],
                            env=dict(os.environ, TMPDIR=str(scratch)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def check_fixture_cache():
    """Two processes racing for one fixture, a damaged entry, a build killed midway."""
    with tempfile.TemporaryDirectory(prefix="provium-case-") as tmp:
        project = fixture_project(tmp)
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        cache = Path(tmp) / "cache"

        racers = [provium_in(project, scratch) for _ in range(2)]
        outputs = [r.communicate(timeout=600) for r in racers]
        stderr = "".join(err for _, err in outputs)
        builds = stderr.count("building fixture `base`")
        entries = sorted(p.name for p in cache.glob("*.snap"))
        ok = all(r.returncode == 0 for r in racers) and builds == 1 and "waiting for" in stderr and len(entries) == 1
        record("two provium processes racing for one fixture build it once; both restore it", ok,
               f"exits={[r.returncode for r in racers]} builds={builds} entries={entries} stderr={stderr[-600:]!r}")

        if entries:
            entry = cache / entries[0]
            with open(entry, "r+b") as f:  # the device state starts after the 256 MiB of RAM
                f.seek((256 << 20) + 64)
                f.write(b"\xff" * 64)
        proc = provium_in(project, scratch)
        out, err = proc.communicate(timeout=600)
        ok = proc.returncode == 0 and "damaged" in err and "rebuilding" in err
        record("a damaged fixture entry is reported and rebuilt", ok, f"exit={proc.returncode} stderr={err[-600:]!r}")

        for p in cache.glob("*.snap"):
            p.unlink()
        slow = fixture_project(tmp, "slow", SLOW_FIXTURE_SOURCE)
        proc = provium_in(slow, scratch)
        deadline = time.time() + 300
        while time.time() < deadline and proc.poll() is None and not any("qemu-system" in p for p in stray_processes()):
            time.sleep(0.1)
        time.sleep(0.5)  # the fixture's guest is booting; its chunk then waits 8 s before the snapshot
        proc.kill()
        proc.communicate()
        # Its runners and QEMUs get SIGKILL from the kernel (PDEATHSIG); give them time to finish dying.
        gone_by = time.time() + 30
        while stray_processes() and time.time() < gone_by:
            time.sleep(0.2)
        killed_leftovers = stray_processes()
        entries_after_kill = list(cache.glob("*.snap"))
        proc = provium_in(slow, scratch)
        out, err = proc.communicate(timeout=600)
        staging = [p.name for p in cache.iterdir() if p.name.startswith(".staging")]
        staging += [p.name for p in (Path(tmp) / "snapshots").iterdir()]
        entries = list(cache.glob("*.snap"))
        ok = (proc.returncode == 0 and "building fixture `base`" in err and not staging and len(entries) == 1
              and not killed_leftovers and not entries_after_kill)
        record("a fixture build killed midway leaves no entry; the next run builds it", ok,
               f"exit={proc.returncode} staging={staging} entries={entries} after kill={killed_leftovers} "
               f"entries after the kill={entries_after_kill} "
               f"stderr={err[-400:]!r}")

        def fixture_cli(*args):
            return subprocess.run([str(PROVIUM), "--config", str(project / "provium.toml"), "fixture", *args],
                                  env=dict(os.environ, TMPDIR=str(scratch)), capture_output=True, text=True,
                                  timeout=600)
        (project / "base.fixture.lua").write_text(FIXTURE_SOURCE + "-- edited: a new key\n")
        before = fixture_cli("stale", str(project))
        built = fixture_cli("build", str(project))
        after = fixture_cli("stale", str(project))
        again = fixture_cli("build", str(project))
        rebuilt = fixture_cli("rebuild", str(project))
        ok = (before.stdout.startswith("stale  base") and built.returncode == 0 and "building fixture `base`" in built.stderr
              and after.stdout.startswith("fresh  base") and "building" not in again.stderr
              and "building fixture `base`" in rebuilt.stderr and rebuilt.returncode == 0)
        record("provium fixture stale|build|rebuild: stale before, built once, fresh after, rebuilt on demand", ok,
               f"before={before.stdout!r} built={built.returncode}/{built.stderr[-200:]!r} after={after.stdout!r} "
               f"again={again.stderr[-200:]!r} rebuilt={rebuilt.returncode}/{rebuilt.stderr[-200:]!r}")


LAB_FIXTURE_SOURCE = (
    'local lan = provium:bridge("lan")\n'
    'local a = provium:vm("a", "default"):boot()\n'
    'lan:attach({a})\n'
    'a:write_file("/tmp/marker", "made by the lab fixture")\n'
    'return provium:snapshot()\n')
LAB_FIXTURE_TEST = (
    'test("uses the lab fixture", function(t)\n'
    '  t:assert_eq(provium:lab_fixture("site").a:read_file("/tmp/marker"), "made by the lab fixture")\n'
    'end)\n')


def check_lab_fixture_cache():
    """A lab fixture's cache entry is a directory; a damaged VM snapshot in it is reported and rebuilt."""
    with tempfile.TemporaryDirectory(prefix="provium-case-") as tmp:
        project = Path(tmp) / "project"
        project.mkdir()
        (project / "site.fixture.lua").write_text(LAB_FIXTURE_SOURCE)
        (project / "uses.test.lua").write_text(LAB_FIXTURE_TEST)
        (project / "provium.toml").write_text(
            f'[provium]\ncache_dir = "{tmp}/cache"\nsnapshot_dir = "{tmp}/snapshots"\n')
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        cache = Path(tmp) / "cache"
        first = provium_in(project, scratch)
        out, err = first.communicate(timeout=600)
        entries = sorted(p for p in cache.glob("*.lab") if p.is_dir())
        files = sorted(p.name for p in entries[0].iterdir()) if entries else []
        ok = first.returncode == 0 and "building fixture `site`" in err and len(entries) == 1 and "lab.json" in files
        record("a lab fixture is built into a <key>.lab directory and restored", ok,
               f"exit={first.returncode} entries={entries} files={files} stderr={err[-600:]!r}")
        if entries:
            for snap in entries[0].glob("*.snap"):
                with open(snap, "r+b") as f:  # the device state starts after the 256 MiB of RAM
                    f.seek((256 << 20) + 64)
                    f.write(b"\xff" * 64)
        again = provium_in(project, scratch)
        out, err = again.communicate(timeout=600)
        ok = again.returncode == 0 and "damaged" in err and "rebuilding" in err
        record("a damaged lab fixture entry is reported and rebuilt", ok,
               f"exit={again.returncode} stderr={err[-600:]!r}")


def decode_event_frames(data):
    """Length-prefixed msgpack frames (4-byte big-endian length) -> list of dicts; raises on a bad tail."""
    import msgpack
    frames, at = [], 0
    while at < len(data):
        if len(data) - at < 4:
            raise ValueError(f"{len(data) - at} stray bytes after frame {len(frames)}")
        size = int.from_bytes(data[at:at + 4], "big")
        body = data[at + 4:at + 4 + size]
        if len(body) != size:
            raise ValueError(f"frame {len(frames)} announces {size} bytes, has {len(body)}")
        frames.append(msgpack.unpackb(body, raw=False))
        at += 4 + size
    return frames


EVENTS_TEST = (
    'provium:claim({memory = "1G", cpus = 2})\n'
    + FIXTURE_TEST +
    'test("inline skip", function(t) t:skip("not today") end)\n')


def check_events():
    """The event stream on real guests: --save-events, --events-stdout, --events-socket; provium list."""
    with tempfile.TemporaryDirectory(prefix="provium-case-") as tmp:
        project = fixture_project(tmp)
        test_file = project / "uses.test.lua"
        test_file.write_text(EVENTS_TEST)
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        events_path = Path(tmp) / "events.msgpack"
        env = dict(os.environ, TMPDIR=str(scratch))
        config = ["--config", str(project / "provium.toml")]

        proc = subprocess.run([str(PROVIUM), *config, str(project), "--save-events", str(events_path)],
                              env=env, capture_output=True, timeout=600)
        try:
            frames = decode_event_frames(events_path.read_bytes())
        except (OSError, ValueError) as error:
            frames, problem = [], str(error)
        else:
            problem = ""
        kinds = [f["kind"] for f in frames]
        shape_ok = bool(frames) and all(set(f) == {"ts", "kind", "payload"} and isinstance(f["ts"], int)
                                        and f["ts"] > 1_600_000_000 * 10**9 for f in frames)

        def first(kind, **fields):
            for i, f in enumerate(frames):
                if f["kind"] == kind and all(f["payload"].get(k) == v for k, v in fields.items()):
                    return i
            return None

        path = str(test_file)
        fixture_file = str((project / "base.fixture.lua").resolve())
        order = [
            first("file_discovered", path=path, fixture_refs=["base"]),
            first("file_dispatched", path=path),
            first("claim_acquired", path=path, amount={"memory_bytes": 1 << 30, "cpus": 2}),
            first("test_started", path=path, name="uses the fixture", meta={}),
            first("fixture_build_started", path="base"),
            first("vm_spawned", file=fixture_file, vm_name="base", profile="default", memory_bytes=256 << 20),
            first("vm_shutdown", file=fixture_file, vm_name="base"),
            first("fixture_build_done", path="base"),
            first("vm_spawned", file=path, vm_name="base", profile="default"),
            first("test_passed", path=path, name="uses the fixture", meta={}),
            first("test_started", path=path, name="inline skip"),
            first("test_skipped", path=path, name="inline skip", reason="not today"),
            first("vm_shutdown", file=path, vm_name="base"),
            first("claim_released", path=path, amount={"memory_bytes": 1 << 30, "cpus": 2}),
            first("file_completed", path=path, status="passed"),
        ]
        done = frames[order[7]]["payload"] if order[7] is not None else {}
        completed = frames[order[-1]]["payload"] if order[-1] is not None else {}
        mode = events_path.stat().st_mode & 0o777 if events_path.exists() else None
        ok = (proc.returncode == 0 and not problem and shape_ok and None not in order and order == sorted(order)
              and done.get("snapshot_bytes", 0) > 0 and done.get("duration_ns", 0) > 0
              and completed.get("duration_ns", 0) > 0 and "fixture_cache_hit" not in kinds
              and kinds.count("file_completed") == 1 and mode == 0o600)
        record("--save-events: a fixture build's events in order, from discovery to completion, in a 0600 file", ok,
               f"exit={proc.returncode} problem={problem!r} order={order} kinds={kinds} mode={mode} "
               f"stderr={proc.stderr.decode()[-400:]!r}")

        proc = subprocess.run([str(PROVIUM), *config, str(project), "--events-stdout", "-v"],
                              env=env, capture_output=True, timeout=600)
        try:
            frames = decode_event_frames(proc.stdout)
        except ValueError as error:
            frames, problem = [], str(error)
        else:
            problem = ""
        kinds = [f["kind"] for f in frames]
        hit = first("fixture_cache_hit", path="base")
        passed = first("test_passed", name="uses the fixture")
        err = proc.stderr.decode(errors="replace")
        ok = (proc.returncode == 0 and not problem and hit is not None and passed is not None and hit < passed
              and "fixture_build_started" not in kinds and "PASS" in err and "uses the fixture" in err)
        record("--events-stdout: decodable frames on stdout, a cache hit and no build; the report on stderr", ok,
               f"exit={proc.returncode} problem={problem!r} kinds={kinds} stderr={err[-400:]!r}")

        socket_path = Path(tmp) / "events.sock"
        runner = subprocess.Popen([str(PROVIUM), *config, str(project), "--events-socket", str(socket_path)],
                                  env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        import socket as socketlib
        received, connected = b"", False
        deadline = time.time() + 60
        while time.time() < deadline and runner.poll() is None and not connected:
            try:
                client = socketlib.socket(socketlib.AF_UNIX, socketlib.SOCK_STREAM)
                client.connect(str(socket_path))
                connected = True
            except OSError:
                client.close()
                time.sleep(0.01)
        if connected:
            client.settimeout(120)
            while chunk := client.recv(65536):
                received += chunk
            client.close()
        runner.communicate(timeout=600)
        try:
            kinds = [f["kind"] for f in decode_event_frames(received)]
            problem = ""
        except ValueError as error:
            kinds, problem = [], str(error)
        ok = (runner.returncode == 0 and connected and not problem and kinds[-1:] == ["file_completed"]
              and "test_passed" in kinds and not socket_path.exists())
        record("--events-socket: a client gets the frames emitted after it connected; the socket is removed", ok,
               f"exit={runner.returncode} connected={connected} problem={problem!r} kinds={kinds} "
               f"left={socket_path.exists()}")

        timeout_case = CASES / "file_timeout.test.lua"
        proc = subprocess.run([str(PROVIUM), "--test-hooks", "--timeout", "3s", str(timeout_case),
                               "--save-events", str(events_path)], cwd=ROOT, env=env, capture_output=True,
                              timeout=600)
        frames = decode_event_frames(events_path.read_bytes()) if events_path.exists() else []
        shown = str(timeout_case.relative_to(ROOT))
        order = [first("test_started", path=shown, name="hangs the runner"),
                 first("test_failed", path=shown, name="hangs the runner"),
                 first("file_completed", path=shown, status="timed_out")]
        reason = frames[order[1]]["payload"].get("reason", "") if order[1] is not None else ""
        ok = (proc.returncode == 1 and None not in order and order == sorted(order) and "timed out" in reason
              and [f["kind"] for f in frames].count("test_failed") == 1)
        record("--save-events: a timed-out file's running test fails in the stream, then the file completes", ok,
               f"exit={proc.returncode} order={order} reason={reason!r} kinds={[f['kind'] for f in frames]}")

        listed = subprocess.run([str(PROVIUM), *config, "list", str(project)], env=env, capture_output=True,
                                text=True, timeout=60)
        fixtures = subprocess.run([str(PROVIUM), *config, "list", "--fixtures", str(project)], env=env,
                                  capture_output=True, text=True, timeout=60)
        ok = (listed.returncode == 0 and listed.stdout == f"{path}\n" and fixtures.returncode == 0
              and fixtures.stdout == f"{fixture_file}\n")
        record("provium list prints the test files, list --fixtures the fixture files, booting nothing", ok,
               f"list={listed.returncode}/{listed.stdout!r}/{listed.stderr[-200:]!r} "
               f"fixtures={fixtures.returncode}/{fixtures.stdout!r}/{fixtures.stderr[-200:]!r}")


# Checks beyond the case files, runnable alone by name (run_cases.py check_events).
NAMED_CHECKS = {"check_events": check_events, "check_lab_fixture_cache": check_lab_fixture_cache}


def main():
    if not PROVIUM.exists():
        raise SystemExit(f"{PROVIUM} not built")
    only = sys.argv[1:]
    named = [o for o in only if o in NAMED_CHECKS]
    only = [o for o in only if o not in NAMED_CHECKS]
    for name in named:
        NAMED_CHECKS[name]()
    specs = {}
    for path in sorted(CASES.glob("*.test.lua")):
        if (only or named) and not any(o in path.name for o in only):
            continue
        specs[path] = check_case(path)
    if not only and not named:
        check_run_goes_on(specs)
        check_config_errors()
        check_user_initrd()
        check_interrupt()
        check_fixture_cache()
        check_lab_fixture_cache()
        check_events()
    passed = sum(1 for _, ok, _ in results if ok)
    print(f"cases: {passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
