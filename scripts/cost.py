#!/usr/bin/env python3
"""Cost per million notes, from what a no-fault soak counted (`make cost`).

Reads the counts a soak wrote (`SOAK_COUNTS_JSON`: invocations, AWS calls, PutEvents entries and
bytes, DynamoDB capacity units) and the bytes the functions logged during it, and prices them at
the list prices in cost/prices.json. Nothing here is assumed per note: every quantity is a count
divided by the notes accepted. What the local stack cannot count is named in the output:

- the HTTP API's access log line (its format is cdk/lib/http-api.ts; one line per request,
  rendered below with typical values) and the `requestId` Lambda's runtime adds to each log line;
- the rule's delivery of each `note-created` to SQS (one SendMessage per `note-created` entry);
- Lambda's duration is the local one (emulators answer more slowly than AWS's endpoints, so this
  is an upper bound) at each function's declared memory (shared/topology.json).

Usage: cost.py --private COUNTS LOGBYTES LOGLINES [--public COUNTS LOGBYTES LOGLINES] [--markdown]
"""

import argparse
import json
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parent.parent
MILLION = 1_000_000
GB = 1024**3

# One access log line of the HTTP API (cdk/lib/http-api.ts), for `POST /notes`.
ACCESS_LOG_LINE = json.dumps(
    {
        "requestId": "Xq3bVhCuIAMEbXg=",
        "ip": "203.0.113.10",
        "requestTime": "26/Nov/2026:14:07:52 +0000",
        "httpMethod": "POST",
        "routeKey": "POST /notes",
        "status": "202",
        "protocol": "HTTP/1.1",
        "responseLength": "107",
        "integrationError": "-",
    }
)
# What Lambda's runtime adds to each line of a function: `,"requestId":"<uuid>"`.
REQUEST_ID_FIELD_BYTES = len(',"requestId":"8f5e1f7e-2b1c-4d8e-9a3b-6c1d2e3f4a5b"')

WRITE_APIS = {"PutItem", "DeleteItem", "UpdateItem", "TransactWriteItems", "BatchWriteItem"}
READ_APIS = {"GetItem", "Query", "BatchGetItem", "TransactGetItems"}


def load(path):
    return json.loads(pathlib.Path(path).read_text())


# The functions that take one record per note in a batch: save-note (a note-created each) and
# publish-changes (a stream record each; a private note's only change is its save).
PER_NOTE_BATCHED = ("save-note", "publish-changes")


def batch_size_of(topology, function):
    """The declared batch size of the queue or stream mapping that triggers `function`."""
    trigger = topology["functions"][function]["trigger"]
    if "queue" in trigger:
        return topology["eventSourceMappings"][trigger["queue"]]["batchSize"]
    if "stream" in trigger:
        return topology["streams"][trigger["stream"]]["batchSize"]
    raise SystemExit(f"cost: {function} is not batched")


def batched(counts, topology, batches):
    """The soak's invocations with those of `PER_NOTE_BATCHED` as if each batch held `batches`
    notes: "one" (a trickle: one invocation per note, each as long as a measured one, an upper
    bound) or "full" (the declared batch size, the measured time spread over fewer invocations)."""
    notes = counts["notes"]
    invocations = {f: dict(i) for f, i in counts["invocations"].items()}
    for f in PER_NOTE_BATCHED:
        measured = invocations.get(f)
        if not measured or measured["count"] == 0:
            continue
        if batches == "one":
            mean = measured["milliseconds"] / measured["count"]
            invocations[f] = {"count": notes, "milliseconds": mean * notes}
        else:
            invocations[f] = {"count": notes / batch_size_of(topology, f), "milliseconds": measured["milliseconds"]}
    return {**counts, "invocations": invocations}


def notes_per_invocation(counts):
    """How many notes each batched function took per invocation in the soak."""
    return {
        f: counts["notes"] / counts["invocations"][f]["count"]
        for f in PER_NOTE_BATCHED
        if counts["invocations"].get(f, {}).get("count")
    }


def estimate(counts, log_bytes, log_lines, prices, topology):
    """(lines, total): each line is (item, quantity per note, unit, dollars per million notes)."""
    notes = counts["notes"]
    if notes == 0:
        raise SystemExit("cost: the soak accepted no notes")
    per = lambda n: n / notes  # noqa: E731
    functions = topology["functions"]
    invocations = counts["invocations"]
    calls = counts["apiCalls"]
    units = counts["apiUnits"]
    capacity = counts["consumedCapacity"]
    lines = []

    def add(item, quantity, unit, dollars_per_million_notes):
        lines.append((item, quantity, unit, dollars_per_million_notes))

    http = sum(i["count"] for f, i in invocations.items() if "http" in functions[f]["trigger"])
    add("HTTP API requests", per(http), "requests", per(http) * prices["httpApiPerMillionRequests"])

    requests = sum(i["count"] for i in invocations.values())
    add("Lambda requests", per(requests), "invocations", per(requests) * prices["lambdaPerMillionRequests"])
    gb_seconds = sum(i["milliseconds"] / 1000 * functions[f]["memoryMb"] / 1024 for f, i in invocations.items())
    add(
        "Lambda duration (arm64, local durations: an upper bound)",
        per(gb_seconds),
        "GB-s",
        per(gb_seconds) * MILLION * prices["lambdaArm64PerGbSecond"],
    )

    events = units.get("EventBridge:PutEvents entries", 0)
    add("EventBridge custom events", per(events), "events", per(events) * prices["eventBridgePerMillionCustomEvents"])
    # Only the detail-types the archive's pattern takes (shared/topology.json) are archived.
    archived = topology["archive"]["eventPattern"].get("detail-type")
    if archived is None:
        event_bytes = units.get("EventBridge:PutEvents bytes", 0)
    else:
        event_bytes = sum(units.get(f"EventBridge:PutEvents bytes {t}", 0) for t in archived)
    add(
        "EventBridge archive (the archived detail-types)",
        per(event_bytes),
        "bytes",
        per(event_bytes) * MILLION / GB * prices["eventBridgeArchivePerGbIngested"],
    )

    sqs = sum(n for api, n in calls.items() if api.startswith("SQS:") and "(notify stand-in)" not in api)
    deliveries = units.get("EventBridge:PutEvents entries note-created", 0)
    add(
        "SQS requests (the rule's SendMessage, ReceiveMessage, DeleteMessageBatch)",
        per(sqs + deliveries),
        "requests",
        per(sqs + deliveries) * prices["sqsStandardPerMillionRequests"],
    )

    writes = sum(c["capacityUnits"] + c["refused"] for api, c in capacity.items() if api in WRITE_APIS)
    reads = sum(c["capacityUnits"] for api, c in capacity.items() if api in READ_APIS)
    add("DynamoDB write units", per(writes), "WRU", per(writes) * prices["dynamoDbOnDemandPerMillionWriteUnits"])
    add("DynamoDB read units", per(reads), "RRU", per(reads) * prices["dynamoDbOnDemandPerMillionReadUnits"])

    messages = calls.get("ApiGatewayManagement:PostToConnection", 0)
    add("WebSocket messages", per(messages), "messages", per(messages) * prices["webSocketPerMillionMessages"])

    logged = log_bytes + log_lines * REQUEST_ID_FIELD_BYTES + http * (len(ACCESS_LOG_LINE) + 1)
    add(
        "CloudWatch Logs (functions' lines + requestId, API access lines)",
        per(logged),
        "bytes",
        per(logged) * MILLION / GB * prices["cloudWatchLogsIngestionPerGb"],
    )
    add("X-Ray (off unless deployed with -c tracing=true)", 0, "traces", 0.0)
    return lines, sum(line[3] for line in lines)


def report(title, counts, lines, total, markdown):
    if markdown:
        print(f"\n{title}: **${total:.2f} per million notes**\n")
        print("| item | per note | $ per million notes |")
        print("| --- | --- | --- |")
        for item, quantity, unit, dollars in lines:
            print(f"| {item} | {quantity:,.3f} {unit} | {dollars:.2f} |")
        print(f"| **total** | | **{total:.2f}** |")
    else:
        print(f"\n{title}")
        print(f"  from {counts['notes']} notes, {counts['users']} users, {counts['notesPerSecond']:.1f} notes/s")
        for item, quantity, unit, dollars in lines:
            print(f"  {item:<72} {quantity:>12,.3f} {unit:<11} ${dollars:>6.2f}")
        print(f"  {'total per million notes':<97} ${total:>6.2f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--private", nargs=3, metavar=("COUNTS", "LOG_BYTES", "LOG_LINES"), required=True)
    parser.add_argument("--public", nargs=3, metavar=("COUNTS", "LOG_BYTES", "LOG_LINES"))
    parser.add_argument("--prices", default=str(REPO / "cost" / "prices.json"))
    parser.add_argument(
        "--target",
        type=float,
        default=8.00,
        help="$ per million private notes not to exceed, with one note per batch (a trickle)",
    )
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    prices = load(args.prices)
    topology = load(REPO / "shared" / "topology.json")
    print(f"List prices of {prices['region']} as of {prices['asOf']} ({args.prices}).")

    measured = load(args.private[0])
    taken = ", ".join(f"{f} {n:.2f}" for f, n in notes_per_invocation(measured).items())
    print(f"\nNotes per invocation in the soak: {taken}.")
    private = (int(args.private[1]), int(args.private[2]))
    counts = batched(measured, topology, "one")
    lines, private_total = estimate(counts, *private, prices, topology)
    report(
        "Private notes, one note per batch (a trickle; each reaches its owner's one connection)",
        counts,
        lines,
        private_total,
        args.markdown,
    )
    _, full_total = estimate(batched(measured, topology, "full"), *private, prices, topology)
    _, soak_total = estimate(measured, *private, prices, topology)
    print(
        f"\n  The same notes at full batches ({', '.join(f'{f} {batch_size_of(topology, f)}' for f in PER_NOTE_BATCHED)}"
        f" per invocation): ${full_total:.2f} per million; as the soak batched them: ${soak_total:.2f}."
    )

    if args.public:
        counts = load(args.public[0])
        lines, total = estimate(counts, int(args.public[1]), int(args.public[2]), prices, topology)
        connections = counts["users"]
        report(
            f"Public notes (each reaches all {connections} open connections)", counts, lines, total, args.markdown
        )
        fan_out = prices["webSocketPerMillionMessages"] * (connections - 1)
        print(
            f"\n  A public note reaching only its owner: about ${total - fan_out:.2f} per million; each other open"
            f" connection adds one WebSocket message (${prices['webSocketPerMillionMessages']:.2f} per million)."
        )

    if private_total > args.target:
        print(f"\ncost: ${private_total:.2f} per million private notes is above the ${args.target:.2f} target")
        return 1
    print(f"\ncost: ${private_total:.2f} per million private notes, within the ${args.target:.2f} target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
