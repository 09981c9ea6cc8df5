"""cargo-lambda's own loop against the local stack, as the README shows it, with no variable set by hand.

Starts the local stack the way `make local` does (its fixed emulator port, its default resource
names; no frontend, it is not needed here), then runs the README's `cargo lambda watch` and each of
its `cargo lambda invoke` lines, verbatim, in an environment scrubbed of every AWS_* variable and of
the functions' own variables: everything a function needs comes from `[package.metadata.lambda.env]`
in its Cargo.toml. Each sample event must be handled successfully, and the notes it creates must be
stored where the local stack reads them (so table, bus, region, endpoint and signing key all match).

The functions are built by `cargo run` in the workspace's debug profile (target/debug, shared with
`cargo test` and the local stack), before the emulator starts, so no invoke waits on a compile.

Run by scripts/test.sh (`make test`); needs make local's ports (3000, 3001, 3002, 3003) and cargo-lambda's
(9000) free:
    .venv/bin/python scripts/cargo_lambda_local_test.py -v
"""

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
README = REPO / "README.md"
LOGS = Path(tempfile.gettempdir())
# Variables a developer never has to set: scrubbed from the tools' environment to prove it.
FUNCTION_VARIABLES = {"TABLE_NAME", "EVENT_BUS_NAME", "WEBSOCKET_MANAGEMENT_ENDPOINT", "JWT_SECRET", "JWT_SECRET_ARN", "JWT_TTL_SECONDS"}


def readme_commands(prefix: str) -> list[str]:
    """The command lines starting with `prefix` in the README's code blocks (comments after # dropped)."""
    lines, fenced = [], False
    for line in README.read_text().splitlines():
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        line = line.split(" #")[0].strip()
        if fenced and line.startswith(prefix):
            lines.append(line)
    return lines


def clean_environment() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in FUNCTION_VARIABLES}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"  # what `. .venv/bin/activate` does
    env["MOTO_SERVER"] = str(VENV_BIN / "moto_server")
    return env


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port now (as servers do, ignoring TIME_WAIT leftovers)."""
    for family, address in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::")):
        with socket.socket(family) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((address, port))
            except OSError:
                return False
    return True


def wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: int) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited ({process.returncode}) before listening on :{port}:\n{log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"nothing listened on :{port} within {seconds} s:\n{log.read_text()[-3000:]}")


def http(method: str, url: str, body: dict | None = None, token: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


class CargoLambdaAgainstLocalStack(unittest.TestCase):
    processes: list[tuple[subprocess.Popen, int]] = []
    logs: list = []

    @classmethod
    def setUpClass(cls):
        # Runs even when setUpClass fails half-way (tearDownClass would not): nothing is left running.
        cls.addClassCleanup(cls.stop_all)
        cls.env = clean_environment()
        cls.watch = readme_commands("cargo lambda watch")
        cls.invokes = readme_commands("cargo lambda invoke")
        cls.signups = readme_commands("curl ")
        assert len(cls.watch) == 1, f"the README shows one `cargo lambda watch`: {cls.watch}"
        assert cls.invokes, "the README shows `cargo lambda invoke` lines"
        busy = [p for p in (3000, 3001, 3002, 3003, 9000) if not port_is_free(p)]
        if busy:
            raise AssertionError(f"ports {busy} are in use: stop `make local` / `cargo lambda watch` and run again")

        # The local stack as scripts/local.sh builds it; the functions as the emulator's `cargo run
        # --bin <function>` does (same package selection, so the same features: nothing to rebuild).
        subprocess.run(["cargo", "build", "--quiet", "-p", "notes-local"], cwd=REPO, env=cls.env, check=True)
        functions = sorted({shlex.split(line)[3] for line in cls.invokes})
        build = ["cargo", "build", "--quiet", *[a for f in functions for a in ("--bin", f)]]
        subprocess.run(build, cwd=REPO, env=cls.env, check=True)

        stack_log = LOGS / "notes-cargo-lambda-stack.log"
        empty = tempfile.mkdtemp(prefix="notes-no-frontend-")
        stack = cls.start([str(REPO / "target/debug/notes-local"), "--frontend-dir", empty], stack_log)
        wait_for_port(3000, stack, stack_log, 120)

        watch_log = LOGS / "notes-cargo-lambda-watch.log"
        watch = cls.start(shlex.split(cls.watch[0]), watch_log, new_session=True)
        wait_for_port(9000, watch, watch_log, 120)

    @classmethod
    def start(cls, argv: list[str], log: Path, new_session: bool = False) -> subprocess.Popen:
        out = log.open("w")
        cls.logs.append(out)
        process = subprocess.Popen(argv, cwd=REPO, env=cls.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=new_session)
        # notes-local stops cleanly (moto with it) on Ctrl-C; cargo-lambda's emulator on SIGTERM.
        cls.processes.append((process, signal.SIGTERM if new_session else signal.SIGINT))
        return process

    @classmethod
    def stop_all(cls):
        for process, sig in reversed(cls.processes):
            if process.poll() is None:
                process.send_signal(sig)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        for out in cls.logs:
            out.close()

    def invoke(self, line: str) -> object:
        result = subprocess.run(shlex.split(line), cwd=REPO, env=self.env, capture_output=True, text=True, timeout=600)
        self.assertEqual(result.returncode, 0, f"{line}\n{result.stdout}\n{result.stderr}")
        output = result.stdout.strip()
        self.assertNotIn("errorType", output, f"{line}: the function failed: {output}")
        return json.loads(output) if output else None

    def sample(self, line: str) -> dict:
        return json.loads((REPO / shlex.split(line)[shlex.split(line).index("--data-file") + 1]).read_text())

    def token(self) -> str:
        tokens = set()
        for path in (REPO / "events").glob("*.json"):
            tokens.update(re.findall(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", path.read_text()))
        self.assertEqual(len(tokens), 1, "the sample events act as one person")
        return tokens.pop()

    def wait_saved(self, note_id: str) -> dict:
        deadline = time.monotonic() + 60
        while True:
            status, note = http("GET", f"http://127.0.0.1:3000/notes/{note_id}", token=self.token())
            if status == 200 and note.get("status") == "saved":
                return note
            if time.monotonic() > deadline:
                self.fail(f"note {note_id} not saved by the local stack within 60 s (last: {status} {note})")
            time.sleep(0.5)

    def test_every_readme_invoke_succeeds_against_the_local_stack(self):
        # The sample events act as the person their token names: the README signs them up first.
        self.assertEqual(len(self.signups), 1, "the README signs up the sample events' user")
        args = shlex.split(self.signups[0])
        url = next(a for a in args if a.startswith("http://"))
        body = json.loads(args[args.index("-d") + 1])
        status, _ = http("POST", url, body)
        self.assertEqual(status, 201, "signup through the local stack")

        invoked = set()
        for line in self.invokes:
            function = shlex.split(line)[3]
            event = self.sample(line)
            with self.subTest(command=line):
                response = self.invoke(line)
                invoked.add(function)
                if "routeKey" in event and event.get("version") == "2.0":  # HTTP API
                    self.assertEqual(response["statusCode"], 202 if event["routeKey"] == "POST /notes" else 200, response)
                    if event["routeKey"] == "POST /notes":
                        note_id = json.loads(response["body"])["noteId"]
                        note = self.wait_saved(note_id)
                        self.assertEqual(note["content"], json.loads(event["body"])["content"])
                elif "connectionId" in event.get("requestContext", {}):  # WebSocket $connect
                    self.assertEqual(response["statusCode"], 200, response)
                elif "Records" in event and event["Records"][0].get("eventSource") == "aws:dynamodb":
                    # The table's stream: every record's event published (to the local bus).
                    self.assertEqual(response, {"batchItemFailures": []})
                elif "Records" in event and event["Records"][0]["eventSourceARN"].endswith("-broadcast-shards"):
                    # The broadcast queue: every shard pushed (to whichever connections are open).
                    self.assertEqual(response, {"batchItemFailures": []})
                elif "Records" in event:  # the note-created queue
                    self.assertEqual(response, {"batchItemFailures": []})
                    for record in event["Records"]:
                        detail = json.loads(record["body"])["detail"]
                        self.assertEqual(self.wait_saved(detail["noteId"])["content"], detail["content"])
                # EventBridge (notify): success is a response without an error, checked by invoke().
        sample_functions = {"publish-note", "save-note", "notify", "broadcast", "connect", "publish-changes"}
        self.assertEqual(invoked, sample_functions, "the README invokes every function that has a sample event")


if __name__ == "__main__":
    unittest.main(argv=[sys.argv[0], *sys.argv[1:]])
