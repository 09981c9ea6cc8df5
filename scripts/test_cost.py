"""scripts/cost.py: how counts become dollars (run by `make test`)."""

import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import cost  # noqa: E402

PRICES = {
    "httpApiPerMillionRequests": 1.0,
    "lambdaPerMillionRequests": 0.2,
    "lambdaArm64PerGbSecond": 0.0000133334,
    "eventBridgePerMillionCustomEvents": 1.0,
    "eventBridgeArchivePerGbIngested": 0.1,
    "sqsStandardPerMillionRequests": 0.4,
    "dynamoDbOnDemandPerMillionWriteUnits": 0.625,
    "dynamoDbOnDemandPerMillionReadUnits": 0.125,
    "webSocketPerMillionMessages": 1.0,
    "cloudWatchLogsIngestionPerGb": 0.5,
    "xRayPerMillionTracesRecorded": 5.0,
}
TOPOLOGY = {
    "archive": {"eventPattern": {"source": ["notes.service"], "detail-type": ["note-created"]}},
    "functions": {
        "publish-note": {"trigger": {"http": {"method": "POST", "path": "/notes"}}, "memoryMb": 1024},
        "save-note": {"trigger": {"queue": "noteCreated"}, "memoryMb": 512},
        "notify": {"trigger": {"rule": "noteResultsToNotify"}, "memoryMb": 256},
    },
    "eventSourceMappings": {"noteCreated": {"batchSize": 10}},
}


def counts(**overrides):
    base = {
        "notes": 10,
        "public": 0,
        "users": 1,
        "notesPerSecond": 1.0,
        "invocations": {
            "publish-note": {"count": 10, "milliseconds": 1000.0},
            "save-note": {"count": 2, "milliseconds": 1000.0},
            "notify": {"count": 10, "milliseconds": 1000.0},
        },
        "apiCalls": {
            "SQS:ReceiveMessage": 2,
            "SQS:DeleteMessageBatch": 2,
            "SQS:ReceiveMessage (notify stand-in)": 7,
            "ApiGatewayManagement:PostToConnection": 10,
        },
        "apiUnits": {
            "EventBridge:PutEvents entries": 20,
            "EventBridge:PutEvents entries note-created": 10,
            "EventBridge:PutEvents bytes": 3_000_000,
            "EventBridge:PutEvents bytes note-created": 1_000_000,
            "EventBridge:PutEvents bytes note-saved": 2_000_000,
        },
        "consumedCapacity": {
            "PutItem": {"calls": 20, "capacityUnits": 20.0, "refused": 0},
            "Query": {"calls": 10, "capacityUnits": 5.0, "refused": 0},
        },
    }
    base.update(overrides)
    return base


def priced(c, log_bytes=0, log_lines=0):
    lines, total = cost.estimate(c, log_bytes, log_lines, PRICES, TOPOLOGY)
    return {item.split(" (")[0]: (quantity, dollars) for item, quantity, _, dollars in lines}, total


class CostTest(unittest.TestCase):
    def test_one_note_per_batch_is_one_invocation_per_note_each_as_long_as_a_measured_one(self):
        one = cost.batched(counts(), TOPOLOGY, "one")["invocations"]["save-note"]
        self.assertEqual(one, {"count": 10, "milliseconds": 5000.0})

    def test_full_batches_spread_the_measured_time_over_the_declared_batch_size(self):
        full = cost.batched(counts(), TOPOLOGY, "full")["invocations"]["save-note"]
        self.assertEqual(full, {"count": 1.0, "milliseconds": 1000.0})
        self.assertEqual(cost.batched(counts(), TOPOLOGY, "one")["invocations"]["notify"]["count"], 10)

    def test_each_count_per_note_is_priced_at_its_list_price(self):
        lines, _ = priced(counts())
        self.assertEqual(lines["HTTP API requests"], (1.0, 1.0))
        self.assertAlmostEqual(lines["Lambda requests"][1], 2.2 * 0.2)
        self.assertEqual(lines["EventBridge custom events"], (2.0, 2.0))
        self.assertEqual(lines["DynamoDB write units"], (2.0, 1.25))
        self.assertEqual(lines["DynamoDB read units"], (0.5, 0.0625))
        self.assertEqual(lines["WebSocket messages"], (1.0, 1.0))

    def test_the_archive_is_billed_for_the_detail_types_it_keeps_only(self):
        lines, _ = priced(counts())
        self.assertEqual(lines["EventBridge archive"][0], 100_000)

    def test_lambda_duration_is_weighed_by_each_functions_declared_memory(self):
        lines, _ = priced(counts())
        # (1 s x 1 GB + 1 s x 0.5 GB + 1 s x 0.25 GB) over 10 notes.
        self.assertAlmostEqual(lines["Lambda duration"][0], 0.175)

    def test_sqs_counts_the_rules_deliveries_and_not_the_local_notify_stand_in(self):
        lines, _ = priced(counts())
        self.assertEqual(lines["SQS requests"][0], (2 + 2 + 10) / 10)

    def test_a_refused_conditional_write_is_billed_one_write_unit(self):
        c = counts(consumedCapacity={"PutItem": {"calls": 10, "capacityUnits": 10.0, "refused": 5}})
        lines, _ = priced(c)
        self.assertEqual(lines["DynamoDB write units"][0], 1.5)

    def test_logs_add_the_request_id_of_each_line_and_one_access_line_per_request(self):
        lines, _ = priced(counts(), log_bytes=10_000, log_lines=30)
        expected = (10_000 + 30 * cost.REQUEST_ID_FIELD_BYTES + 10 * (len(cost.ACCESS_LOG_LINE) + 1)) / 10
        self.assertEqual(lines["CloudWatch Logs"][0], expected)

    def test_the_script_fails_above_the_target(self):
        with tempfile.TemporaryDirectory() as d:
            path = pathlib.Path(d) / "private.json"
            path.write_text(json.dumps(counts()))
            run = lambda target: subprocess.run(  # noqa: E731
                [sys.executable, cost.__file__, "--private", str(path), "0", "0", "--target", str(target)],
                capture_output=True,
                text=True,
            )
            self.assertEqual(run(100).returncode, 0, run(100).stdout)
            self.assertEqual(run(1).returncode, 1)
            self.assertIn("above the $1.00 target", run(1).stdout)


if __name__ == "__main__":
    unittest.main()
