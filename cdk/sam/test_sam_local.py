"""The SAM CLI's local testing, checked as the SAM CLI itself sees it, without Docker.

`sam local invoke` and `sam local start-api` need Docker to run a function; everything before that
(reading samconfig.toml, loading the template, resolving a function name, mapping the HTTP routes,
building a function's environment from events/env.json) is plain Python in the SAM CLI, and this
test runs exactly that code:

- the README's `sam` commands go through the SAM CLI's own command line parsing (click, with
  samconfig.toml applied) up to the point where it would start Docker, in a folder laid out like
  the repository whose cdk/cdk.out.sam is the assembly `cdk synth -c sam=true` just produced;
- the template is loaded with SamLocalStackProvider, SamFunctionProvider and ApiProvider;
- each function's environment is built by LocalLambdaRunner from events/env.json.

Run by cdk/scripts/check.sh (so by `make test`), which synthesizes the assembly and sets
NOTES_SAM_ASSEMBLY to it:
    NOTES_SAM_ASSEMBLY=<cdk.out dir> .venv/bin/python -m unittest discover -s cdk/sam -v
"""

import base64
import hashlib
import hmac
import inspect
import json
import logging
import os
import platform
import re
import shlex
import shutil
import subprocess
import tempfile
import tomllib
import unittest
from pathlib import Path
from unittest import mock

from click.testing import CliRunner
from samcli.cli.main import cli as sam_cli
from samcli.commands.local.invoke import cli as invoke_cli
from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
from samcli.commands.local.start_api import cli as start_api_cli
from samcli.lib.providers.api_provider import ApiProvider
from samcli.lib.providers.sam_function_provider import SamFunctionProvider
from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

REPO = Path(__file__).resolve().parents[2]
# The docs whose `sam …` commands must work as written.
DOCS = [REPO / "README.md", REPO / "cdk" / "README.md", REPO / "events" / "README.md", REPO / "samconfig.toml"]
# What the local stack (`make local`) uses: read from its source, so a change there fails here.
# The local stack's defaults (StackConfig, the development key) live in local/src/config.rs.
LOCAL_LIB = (REPO / "local" / "src" / "config.rs").read_text()
MOTO_RS = (REPO / "local" / "src" / "moto.rs").read_text()
DYNAMODB_RS = (REPO / "local" / "src" / "dynamodb_local.rs").read_text()
TOPOLOGY = json.loads((REPO / "shared" / "topology.json").read_text())
# Every function's trigger, as topology.json declares it (the file the CDK app and the local stack read).
HTTP_ROUTES = [
    {"method": f["trigger"]["http"]["method"], "path": f["trigger"]["http"]["path"], "function": name}
    for name, f in TOPOLOGY["functions"].items()
    if "http" in f["trigger"]
]
WS_ROUTES = {f["trigger"]["webSocket"]: name for name, f in TOPOLOGY["functions"].items() if "webSocket" in f["trigger"]}
ENV_FILE = REPO / "events" / "env.json"
FUNCTIONS = sorted(TOPOLOGY["functions"])


def local_default(pattern: str, source: str = LOCAL_LIB) -> str:
    m = re.search(pattern, source)
    if not m:
        raise AssertionError(f"local stack source no longer matches {pattern!r}")
    return m.group(1)


LOCAL_PREFIX = local_default(r'prefix:\s*"([^"]+)"\.into\(\)')
LOCAL_WS_PORT = int(local_default(r"ws_port:\s*(\d+)"))
LOCAL_HTTP_PORT = int(local_default(r"http_port:\s*(\d+)"))
LOCAL_FRONTEND_PORT = int(local_default(r"frontend_port:\s*(\d+)"))
LOCAL_MOTO_PORT = int(local_default(r"pub const DEFAULT_PORT: u16 = (\d+);", MOTO_RS))
LOCAL_DYNAMODB_PORT = int(local_default(r"pub const DEFAULT_PORT: u16 = (\d+);", DYNAMODB_RS))
LOCAL_JWT_SECRET = local_default(r'pub const LOCAL_JWT_SECRET: &str = "([^"]+)";')
# moto's default account, in the URL and ARN of every queue of the local stack.
MOTO_ACCOUNT = "123456789012"
# The work queues of topology.json as the local stack names them after its prefix: the key in kebab
# case, as the CDK app names them too (noteCreated: note-created). Read from local/src/provision.rs.
PROVISION_RS = (REPO / "local" / "src" / "provision.rs").read_text()
LOCAL_QUEUE_NAMES = {
    key: re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", key).lower()
    for key, queue in TOPOLOGY["queues"].items()
    if "maxReceiveCount" in queue
}
for _local in LOCAL_QUEUE_NAMES.values():
    assert f"{{prefix}}-{_local}" in PROVISION_RS, f"local/src/provision.rs names no queue {_local}"
# The queue a function sends to (`sendsTo`: notify's broadcast queue), whose URL is BROADCAST_QUEUE_URL.
SENT_TO = sorted({f["sendsTo"] for f in TOPOLOGY["functions"].values() if "sendsTo" in f})


# The functions the table's stream triggers, by their stream mapping (`streams`).
STREAM_MAPPINGS = {
    name: TOPOLOGY["streams"][f["trigger"]["stream"]] for name, f in TOPOLOGY["functions"].items() if "stream" in f["trigger"]
}
# What each record of a stream event carries, by the table's stream view type.
IMAGES = {
    "NEW_AND_OLD_IMAGES": {"INSERT": {"NewImage"}, "MODIFY": {"NewImage", "OldImage"}, "REMOVE": {"OldImage"}},
    "NEW_IMAGE": {"INSERT": {"NewImage"}, "MODIFY": {"NewImage"}, "REMOVE": set()},
    "OLD_IMAGE": {"INSERT": set(), "MODIFY": {"OldImage"}, "REMOVE": {"OldImage"}},
    "KEYS_ONLY": {"INSERT": set(), "MODIFY": set(), "REMOVE": set()},
}


def matches(pattern, value) -> bool:
    """Whether `value` matches a Lambda filter criteria pattern (the subset the topology may use:
    nested objects, lists of literals, `prefix`, `suffix`, `exists`, `anything-but`); an operator it
    does not know fails the test rather than guess."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        return all(
            matches(sub, value.get(key))
            if isinstance(sub, dict)
            else any(condition(c, value.get(key), key in value) for c in sub)
            for key, sub in pattern.items()
        )
    raise AssertionError(f"a filter pattern is an object of objects and lists, got {pattern!r}")


def condition(c, value, present: bool) -> bool:
    if not isinstance(c, dict):
        return present and value == c
    (op, arg), = c.items()
    if op == "exists":
        return present is arg
    if op == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if op == "suffix":
        return isinstance(value, str) and value.endswith(arg)
    if op == "anything-but":
        return present and value not in (arg if isinstance(arg, list) else [arg])
    raise AssertionError(f"filter operator {op!r} is not one this check knows")


def queue_of(queue_name: str) -> str:
    """The key in topology.json of the work queue named `queue_name` (`<prefix>-<local name>`)."""
    found = [key for key, local in LOCAL_QUEUE_NAMES.items() if queue_name.endswith(f"-{local}")]
    if len(found) != 1:
        raise AssertionError(f"no work queue is named {queue_name!r}")
    return found[0]


def construct_id(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))


def host_architecture() -> str:
    return "arm64" if platform.machine().lower() in ("arm64", "aarch64") else "x86_64"


def code_lines(doc: Path) -> list[str]:
    """Lines of the doc's fenced code blocks (for samconfig.toml: its comment lines), comments after # dropped."""
    lines, fenced = [], False
    for line in doc.read_text().splitlines():
        if doc.suffix == ".toml":
            if line.startswith("#"):
                lines.append(line.lstrip("#").strip())
            continue
        if line.strip().startswith("```"):
            fenced = not fenced
        elif fenced:
            lines.append(line.split(" #")[0].strip())
    return lines


def sam_commands() -> list[tuple[Path, list[str]]]:
    """Every `sam local …` command line the docs show."""
    found = []
    for doc in DOCS:
        for line in code_lines(doc):
            if re.match(r"sam local\b", line):
                found.append((doc, shlex.split(line)[1:]))
    return found


class SamProject:
    """The repository as the SAM CLI sees it, with the freshly synthesized assembly as cdk/cdk.out.sam."""

    def __init__(self, assembly: Path):
        self.dir = Path(tempfile.mkdtemp(prefix="notes-sam-project-"))
        shutil.copy(REPO / "samconfig.toml", self.dir / "samconfig.toml")
        (self.dir / "events").symlink_to(REPO / "events")
        (self.dir / "cdk").mkdir()
        (self.dir / "cdk" / "cdk.out.sam").symlink_to(assembly)

    def run(self, args: list[str]) -> dict:
        """Runs `sam <args>` through the SAM CLI's command line up to its do_cli, returning what do_cli got."""
        captured: dict = {}

        def capture(real):
            names = list(inspect.signature(real).parameters)

            def fake(*a, **kw):
                captured.update(dict(zip(names, a)), **kw)

            return fake

        cwd = os.getcwd()
        os.chdir(self.dir)
        try:
            with (
                mock.patch.object(invoke_cli, "do_cli", capture(invoke_cli.do_cli)),
                mock.patch.object(start_api_cli, "do_cli", capture(start_api_cli.do_cli)),
            ):
                result = CliRunner().invoke(sam_cli, args, catch_exceptions=False)
        finally:
            os.chdir(cwd)
        if result.exit_code != 0:
            raise AssertionError(f"sam {' '.join(args)} exited {result.exit_code}: {result.output}")
        captured["_output"] = result.output
        return captured

    def path(self, relative: str) -> Path:
        return (self.dir / relative).resolve()


def setUpModule():
    global PROJECT, STACKS, FUNCTION_PROVIDER, API, TEMPLATE, RUNNER, ENV_VALUES
    logging.getLogger("samcli").setLevel(logging.ERROR)
    os.environ.setdefault("SAM_CLI_TELEMETRY", "0")
    # The environment SAM builds includes credentials: never look for real ones (no IMDS, no profile).
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "offline")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "offline")
    assembly = os.environ.get("NOTES_SAM_ASSEMBLY")
    if not assembly or not Path(assembly, "manifest.json").is_file():
        raise RuntimeError(
            "NOTES_SAM_ASSEMBLY must name the cloud assembly of `cdk synth -c sam=true` (cdk/scripts/check.sh sets it)"
        )
    PROJECT = SamProject(Path(assembly).resolve())
    config = tomllib.loads((REPO / "samconfig.toml").read_text())
    TEMPLATE = PROJECT.path(config["default"]["global"]["parameters"]["template_file"])
    STACKS, _ = SamLocalStackProvider.get_stacks(str(TEMPLATE))
    FUNCTION_PROVIDER = SamFunctionProvider(STACKS)
    API = ApiProvider(STACKS).api
    ENV_VALUES = json.loads(ENV_FILE.read_text())
    RUNNER = LocalLambdaRunner(
        local_runtime=None,
        function_provider=FUNCTION_PROVIDER,
        cwd=str(PROJECT.dir),
        real_path=str(PROJECT.dir),
        aws_region=config["default"]["global"]["parameters"]["region"],
        env_vars_values=ENV_VALUES,
    )


def tearDownModule():
    shutil.rmtree(PROJECT.dir, ignore_errors=True)


def resolved_environment(function) -> dict:
    """The variables `sam local invoke` gives the function, computed by the SAM CLI from events/env.json."""
    env = RUNNER._make_env_vars(function)  # SAM's own merge of template, shell and env file
    env.shell_env_values = {}  # only what the template and the env file say, whatever this shell has
    return env.resolve()


def declared_variables(function) -> dict:
    return dict((function.environment or {}).get("Variables", {}))


class SamConfigTest(unittest.TestCase):
    def test_the_template_is_the_sam_only_synthesis_of_the_readme(self):
        self.assertTrue(TEMPLATE.is_file(), f"samconfig.toml's template_file is not what `cdk synth -c sam=true` writes: {TEMPLATE}")
        readme = (REPO / "README.md").read_text()
        self.assertIn("(cd cdk && npx cdk synth -c sam=true -o cdk.out.sam)", readme)
        self.assertEqual(TEMPLATE.name, "notes-local-sam.template.json")

    def test_every_local_command_uses_the_env_file_and_the_local_region(self):
        config = tomllib.loads((REPO / "samconfig.toml").read_text())["default"]
        self.assertEqual(config["global"]["parameters"]["region"], "us-east-1", "the local stack's emulator region")
        for command in ("local_invoke", "local_start_api", "local_start_lambda"):
            self.assertEqual(config[command]["parameters"]["env_vars"], "events/env.json", command)

    def test_sam_ports_do_not_collide_with_make_local(self):
        config = tomllib.loads((REPO / "samconfig.toml").read_text())["default"]
        taken = {LOCAL_HTTP_PORT, LOCAL_WS_PORT, LOCAL_MOTO_PORT, LOCAL_DYNAMODB_PORT, LOCAL_FRONTEND_PORT}
        for command in ("local_start_api", "local_start_lambda"):
            self.assertNotIn(config[command]["parameters"]["port"], taken, command)


class DocumentedCommandsTest(unittest.TestCase):
    def test_the_docs_show_invoke_and_start_api(self):
        kinds = {tuple(args[:2]) for _, args in sam_commands()}
        self.assertIn(("local", "invoke"), kinds)
        self.assertIn(("local", "start-api"), kinds)

    def test_every_documented_sam_local_invoke_resolves_its_function_and_event(self):
        for doc, args in sam_commands():
            if args[:2] != ["local", "invoke"]:
                continue
            with self.subTest(doc=str(doc.relative_to(REPO)), command=" ".join(args)):
                got = PROJECT.run(args)
                self.assertEqual(Path(got["template"]).resolve(), TEMPLATE)
                self.assertEqual(got["env_vars"], "events/env.json")
                function = FUNCTION_PROVIDER.get(got["function_identifier"])
                self.assertIsNotNone(function, f"SAM does not resolve '{got['function_identifier']}'")
                self.assertIsNotNone(got["event"], "the documented command passes an event")
                json.loads(PROJECT.path(got["event"]).read_text())

    def test_every_documented_sam_local_start_api_loads_the_routes(self):
        for doc, args in sam_commands():
            if args[:2] != ["local", "start-api"]:
                continue
            with self.subTest(doc=str(doc.relative_to(REPO)), command=" ".join(args)):
                got = PROJECT.run(args)
                self.assertEqual(Path(got["template"]).resolve(), TEMPLATE)
                self.assertEqual(got["env_vars"], "events/env.json")
                self.assertNotIn(got["port"], {LOCAL_HTTP_PORT, LOCAL_WS_PORT, LOCAL_MOTO_PORT, LOCAL_DYNAMODB_PORT, LOCAL_FRONTEND_PORT})
                stacks, _ = SamLocalStackProvider.get_stacks(got["template"])
                # One route per http trigger of topology.json (each also answering its CORS preflight).
                self.assertEqual(len(ApiProvider(stacks).api.routes), len(HTTP_ROUTES))


class FunctionsTest(unittest.TestCase):
    def test_every_function_resolves_by_its_construct_id_and_its_name(self):
        self.assertEqual(len(list(FUNCTION_PROVIDER.get_all())), len(FUNCTIONS))
        for name in FUNCTIONS:
            with self.subTest(function=name):
                function = FUNCTION_PROVIDER.get(construct_id(name))
                self.assertIsNotNone(function)
                self.assertEqual(function.functionname, f"{LOCAL_PREFIX}-{name}")
                self.assertIs(FUNCTION_PROVIDER.get(f"{LOCAL_PREFIX}-{name}"), function)
                self.assertEqual(function.runtime, "provided.al2023")
                self.assertEqual(function.handler, "bootstrap")
                # Built for this machine: SAM runs it in Docker without emulating another CPU.
                self.assertEqual(function.architectures, [host_architecture()])
                self.assertEqual(function.memory, TOPOLOGY["functions"][name]["memoryMb"])
                self.assertEqual(function.timeout, TOPOLOGY["functions"][name]["timeoutSeconds"])


class RoutesTest(unittest.TestCase):
    def test_every_http_route_maps_to_its_function(self):
        by_key = {}
        for route in API.routes:
            for method in route.methods:
                by_key[(method, route.path)] = route
        for entry in HTTP_ROUTES:
            with self.subTest(route=f"{entry['method']} {entry['path']}"):
                route = by_key.get((entry["method"], entry["path"]))
                self.assertIsNotNone(route, "SAM's API provider has no such route")
                self.assertEqual(route.function_name, f"{LOCAL_PREFIX}-{entry['function']}")
                self.assertEqual(route.payload_format_version, "2.0")
                self.assertIsNotNone(FUNCTION_PROVIDER.get(route.function_name))
        methods = {m for r in API.routes for m in r.methods if m != "OPTIONS"}
        self.assertEqual(len([1 for r in API.routes for m in r.methods if m != "OPTIONS"]), len(HTTP_ROUTES), methods)

    def test_cors_is_literal_and_allows_the_local_app(self):
        origins = API.cors.allow_origin.split(",")
        self.assertIn(f"http://127.0.0.1:{LOCAL_FRONTEND_PORT}", origins)
        for origin in origins:
            self.assertRegex(origin, r"^https?://[a-z0-9.-]+(:\d+)?$")
        self.assertIn("Idempotency-Key", API.cors.allow_headers)


class SampleEventsTest(unittest.TestCase):
    def rows(self) -> list[tuple[str, str, str]]:
        """events/README.md's table: file, function, SAM CLI name."""
        text = (REPO / "events" / "README.md").read_text()
        return re.findall(r"^\|\s*`([^`]+\.json)`\s*\|\s*`([a-z-]+)`\s*\|\s*`([A-Za-z]+)`", text, re.M)

    def table(self) -> dict:
        return {file: function for file, function, _ in self.rows()}

    def test_the_sam_names_in_the_events_table_resolve(self):
        for file, function, sam_name in self.rows():
            with self.subTest(event=file):
                resolved = FUNCTION_PROVIDER.get(sam_name)
                self.assertIsNotNone(resolved, f"SAM does not resolve '{sam_name}'")
                self.assertEqual(resolved.functionname, f"{LOCAL_PREFIX}-{function}")

    def test_every_sample_event_names_a_function_of_the_template(self):
        table = self.table()
        files = sorted(p.name for p in (REPO / "events").glob("*.json") if p.name != ENV_FILE.name)
        self.assertEqual(sorted(table), files, "events/README.md lists every sample event and its function")
        for file, function in table.items():
            with self.subTest(event=file):
                self.assertIn(function, FUNCTIONS)
                self.assertIsNotNone(FUNCTION_PROVIDER.get(construct_id(function)))

    def test_every_sample_event_is_what_its_function_receives(self):
        http_routes = {f"{r.methods[0]} {r.path}": r.function_name for r in API.routes if r.methods[0] != "OPTIONS"}
        ws_routes = WS_ROUTES
        by_trigger = {json.dumps(f["trigger"], sort_keys=True): name for name, f in TOPOLOGY["functions"].items()}
        results_types = TOPOLOGY["rules"]["noteResultsToNotify"]["eventPattern"]["detail-type"]
        for file, function in self.table().items():
            event = json.loads((REPO / "events" / file).read_text())
            with self.subTest(event=file):
                if event.get("version") == "2.0" and "routeKey" in event:  # API Gateway HTTP API
                    self.assertEqual(http_routes.get(event["routeKey"]), f"{LOCAL_PREFIX}-{function}")
                elif "connectionId" in event.get("requestContext", {}):  # API Gateway WebSocket
                    self.assertEqual(ws_routes.get(event["requestContext"]["routeKey"]), function)
                elif event.get("Records", [{}])[0].get("eventSource") == "aws:sqs":  # a work queue
                    queues = {record["eventSourceARN"].rsplit(":", 1)[1] for record in event["Records"]}
                    self.assertEqual(len(queues), 1, "one batch comes from one queue")
                    queue = queue_of(queues.pop())
                    self.assertEqual(by_trigger[json.dumps({"queue": queue})], function)
                    self.assertEqual(len({record["messageId"] for record in event["Records"]}), len(event["Records"]))
                    rules = [r for r in TOPOLOGY["rules"].values() if r.get("target") == queue]
                    for record in event["Records"]:
                        body = json.loads(record["body"])
                        if rules:  # an EventBridge event the rule delivered (note-created)
                            self.assertIn(body["detail-type"], rules[0]["eventPattern"]["detail-type"])
                        else:  # what a sendsTo sends: a public event for one connection shard
                            self.assertIn(queue, SENT_TO)
                            self.assertEqual(set(body), {"shard", "detail"})
                            self.assertIsInstance(body["shard"], int)
                            self.assertIn(body["shard"], range(TOPOLOGY["table"]["connectionShards"]))
                            self.assertIn(body["detail"]["eventType"], results_types)
                            self.assertIs(body["detail"]["isPublic"], True)
                elif event.get("Records", [{}])[0].get("eventSource") == "aws:dynamodb":  # the table's stream
                    self.assertIn(function, STREAM_MAPPINGS, "a stream mapping of topology.json feeds it")
                    mapping = STREAM_MAPPINGS[function]
                    arns = {record["eventSourceARN"] for record in event["Records"]}
                    self.assertEqual(len(arns), 1, "one batch comes from one stream")
                    self.assertRegex(arns.pop(), r"^arn:aws:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]+/stream/\S+$")
                    self.assertLessEqual(len(event["Records"]), mapping["batchSize"])
                    view = TOPOLOGY["table"]["stream"]
                    sequence = []
                    for record in event["Records"]:
                        self.assertEqual(record["eventSource"], "aws:dynamodb")
                        self.assertIn(record["eventName"], IMAGES[view])
                        stream = record["dynamodb"]
                        self.assertEqual(stream["StreamViewType"], view)
                        # What the table's stream view carries for that change, and nothing more.
                        self.assertEqual({k for k in stream if k.endswith("Image")}, IMAGES[view][record["eventName"]])
                        # Lambda hands over only the records the mapping's filter matches.
                        self.assertTrue(matches(mapping["filterPattern"], record), f"the filter would drop {stream['Keys']}")
                        sequence.append(int(stream["SequenceNumber"]))
                    # A batch is one shard's records, in order.
                    self.assertEqual(sequence, sorted(set(sequence)))
                elif "detail-type" in event:  # EventBridge, through the results rule
                    self.assertEqual(by_trigger[json.dumps({"rule": "noteResultsToNotify"})], function)
                    self.assertIn(event["detail-type"], results_types)
                else:
                    self.fail(f"{file}: not an event shape this suite receives")

    def test_sample_tokens_are_signed_with_the_env_files_key(self):
        secret = ENV_VALUES["Parameters"]["JWT_SECRET"]
        self.assertEqual(secret, LOCAL_JWT_SECRET, "the env file's key is the local stack's public development key")
        tokens = set()
        for path in (REPO / "events").glob("*.json"):
            tokens.update(re.findall(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", path.read_text()))
        self.assertTrue(tokens)
        for token in tokens:
            head, body, signature = token.split(".")
            expected = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
            self.assertEqual(base64.urlsafe_b64encode(expected).rstrip(b"=").decode(), signature)


class EnvironmentTest(unittest.TestCase):
    EXPECTED = {
        "TABLE_NAME": LOCAL_PREFIX,
        "EVENT_BUS_NAME": f"{LOCAL_PREFIX}-bus",
        "WEBSOCKET_MANAGEMENT_ENDPOINT": f"http://host.docker.internal:{LOCAL_WS_PORT}",
        # The local stack's queue a sendsTo names, at moto's URL.
        "BROADCAST_QUEUE_URL": "".join(
            f"http://host.docker.internal:{LOCAL_MOTO_PORT}/{MOTO_ACCOUNT}/{LOCAL_PREFIX}-{LOCAL_QUEUE_NAMES[key]}"
            for key in SENT_TO
        ),
        "AWS_ENDPOINT_URL": f"http://host.docker.internal:{LOCAL_MOTO_PORT}",
        "AWS_ENDPOINT_URL_DYNAMODB": f"http://host.docker.internal:{LOCAL_DYNAMODB_PORT}",
        "JWT_SECRET": LOCAL_JWT_SECRET,
        "JWT_TTL_SECONDS": "86400",
        "RUST_LOG": "info",
    }

    def test_every_function_starts_against_make_local(self):
        for function in FUNCTION_PROVIDER.get_all():
            with self.subTest(function=function.function_id):
                declared = declared_variables(function)
                self.assertNotIn("JWT_SECRET_ARN", declared, "no Secrets Manager locally")
                env = resolved_environment(function)
                for key in declared:
                    self.assertTrue(env[key], f"{key} resolves to an empty value: the function would stop at init")
                    self.assertEqual(env[key], self.EXPECTED[key], key)
                self.assertEqual(env["AWS_REGION"], "us-east-1")
                if len(declared) > 1:  # it calls AWS: through the emulator
                    self.assertIn("AWS_ENDPOINT_URL", declared)

    def test_the_broadcast_queue_url_is_the_queue_the_sample_batch_comes_from(self):
        self.assertEqual(len(SENT_TO), 1, "BROADCAST_QUEUE_URL names one queue")
        self.assertEqual(sorted(LOCAL_QUEUE_NAMES), sorted(TOPOLOGY["eventSourceMappings"]))
        url = ENV_VALUES["Parameters"]["BROADCAST_QUEUE_URL"]
        senders = [f for f in FUNCTION_PROVIDER.get_all() if "BROADCAST_QUEUE_URL" in declared_variables(f)]
        self.assertEqual(
            sorted(f.functionname for f in senders),
            sorted(f"{LOCAL_PREFIX}-{n}" for n, f in TOPOLOGY["functions"].items() if "sendsTo" in f),
        )
        for function in senders:
            self.assertEqual(resolved_environment(function)["BROADCAST_QUEUE_URL"], url)
        batch = json.loads((REPO / "events" / "sqs-broadcast-batch.json").read_text())
        for record in batch["Records"]:
            self.assertEqual(record["eventSourceARN"], f"arn:aws:sqs:us-east-1:{MOTO_ACCOUNT}:{url.rsplit('/', 1)[1]}")

    def test_the_env_file_sets_only_declared_variables(self):
        declared = set()
        for function in FUNCTION_PROVIDER.get_all():
            declared.update(declared_variables(function))
        parameters = ENV_VALUES["Parameters"]
        self.assertEqual(set(ENV_VALUES), {"Parameters"})
        for key in parameters:
            self.assertIn(key, declared, f"SAM would drop {key}: no function declares it")
        # And it sets exactly what the template leaves empty for it (machine-local values).
        left_empty = {
            k for f in FUNCTION_PROVIDER.get_all() for k, v in declared_variables(f).items() if v == ""
        }
        self.assertEqual(set(parameters), left_empty)


class CargoLambdaEnvironmentTest(unittest.TestCase):
    """cargo-lambda gives a function what its package's `[package.metadata.lambda.env]` says: that
    must be the function's SAM environment, seen from the host instead of from a container."""

    # Not in the template: SAM sets the region and credentials itself; cargo-lambda does not.
    HOST_ONLY = {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local"}

    @classmethod
    def setUpClass(cls):
        # What cargo-lambda reads, read the way it reads it (cargo metadata, no build).
        out = subprocess.run(
            ["cargo", "metadata", "--no-deps", "--format-version", "1", "--manifest-path", str(REPO / "Cargo.toml")],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        cls.packages = {p["name"]: p for p in json.loads(out)["packages"]}

    def test_every_function_has_the_sam_environment_seen_from_the_host(self):
        for name in FUNCTIONS:
            with self.subTest(function=name):
                function = FUNCTION_PROVIDER.get(construct_id(name))
                sam_env = resolved_environment(function)
                expected = {
                    key: sam_env[key].replace("host.docker.internal", "127.0.0.1")
                    for key in declared_variables(function)
                }
                if "AWS_ENDPOINT_URL" in expected:
                    expected.update(self.HOST_ONLY)
                metadata = (self.packages[name].get("metadata") or {}).get("lambda", {})
                self.assertEqual(metadata.get("env"), expected)


if __name__ == "__main__":
    unittest.main()
