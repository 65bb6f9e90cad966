"""The allow-list loader against a DynamoDB client that records its calls.

    ALLOWLIST=allow.jsonl python3 -m unittest test_load_allowlist

ALLOWLIST is a real `stationctl audit export --format aws-jitr-allowlist`
(tests/e2e/jitr_example_test.sh makes one); larger loads are made from it.
"""
import json
import os
import shutil
import tempfile
import unittest

import load_allowlist


class Dynamo:
    """BatchWriteItem as DynamoDB answers it: at most 25 requests, no key twice
    in one call; `throttle` says how many of each call's puts come back
    unprocessed, call by call."""

    def __init__(self, throttle=()):
        self.table = {}
        self.calls = []
        self.throttle = list(throttle)

    def batch_write_item(self, RequestItems):
        (name, requests), = RequestItems.items()
        keys = [r["PutRequest"]["Item"]["serial"]["S"] for r in requests]
        if not 1 <= len(requests) <= 25 or len(set(keys)) != len(keys):
            raise ValueError("ValidationException: %d requests, %d keys" % (len(requests), len(set(keys))))
        self.calls.append(len(requests))
        left = self.throttle.pop(0) if self.throttle else 0
        done, unprocessed = requests[:len(requests) - left], requests[len(requests) - left:]
        for r in done:
            item = r["PutRequest"]["Item"]
            self.table[item["serial"]["S"]] = item
        return {"UnprocessedItems": {name: unprocessed} if unprocessed else {}}


class LoaderTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        with open(os.environ["ALLOWLIST"]) as f:
            self.lines = [json.loads(line) for line in f]
        self.assertGreater(len(self.lines), 0)

    def tearDown(self):
        shutil.rmtree(self.dir)

    def export(self, count, name="allow.jsonl", checkpoint=True):
        """An export of `count` items: the real ones, then copies under other serials."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            for i in range(count):
                item = json.loads(json.dumps(self.lines[i % len(self.lines)]))
                if i >= len(self.lines):
                    item["Item"]["serial"]["S"] = "%x" % (0x10000 + i)
                f.write(json.dumps(item) + "\n")
        if checkpoint:
            shutil.copy(os.environ["ALLOWLIST"] + ".checkpoint", path + ".checkpoint")
        return path

    def test_batches_of_25_and_every_item_lands(self):
        dynamo = Dynamo()
        self.assertEqual(load_allowlist.main([self.export(60), "--table", "t"], dynamo), 0)
        self.assertEqual(dynamo.calls, [25, 25, 10])
        self.assertEqual(len(dynamo.table), 60)

    def test_unprocessed_items_are_retried_until_written(self):
        dynamo = Dynamo(throttle=[7, 3, 0, 25])
        sleeps = []
        items = load_allowlist.read_items(self.export(50))
        load_allowlist.load(items, "t", dynamo, sleep=sleeps.append)
        self.assertEqual(dynamo.calls, [25, 7, 3, 25, 25])
        self.assertEqual(len(dynamo.table), 50)
        self.assertEqual(len(sleeps), 3)
        self.assertLess(sleeps[0], sleeps[1], "backoff grows")

    def test_a_rerun_and_an_overlapping_export_are_harmless(self):
        dynamo = Dynamo()
        path = self.export(40)
        self.assertEqual(load_allowlist.main([path, "--table", "t"], dynamo), 0)
        before = json.dumps(dynamo.table, sort_keys=True)
        self.assertEqual(load_allowlist.main([path, "--table", "t"], dynamo), 0)
        self.assertEqual(load_allowlist.main([self.export(30, "tail.jsonl"), "--table", "t"], dynamo), 0)
        self.assertEqual(json.dumps(dynamo.table, sort_keys=True), before)

    def test_one_serial_twice_goes_in_once(self):
        path = self.export(3)
        with open(path) as f:
            first = f.readline()
        with open(path, "a") as f:
            f.write(first)
        dynamo = Dynamo()
        self.assertEqual(load_allowlist.main([path, "--table", "t"], dynamo), 0)
        self.assertEqual(dynamo.calls, [3])

    def test_refusals(self):
        self.assertEqual(load_allowlist.main([self.export(3, checkpoint=False), "--table", "t"], Dynamo()), 1)
        broken = self.export(3, "broken.jsonl")
        with open(broken, "a") as f:
            f.write("{\"Item\": {}}\n")
        self.assertEqual(load_allowlist.main([broken, "--table", "t"], Dynamo()), 1)
        # A table that never takes the last items: give up, say so, exit 1.
        dynamo = Dynamo(throttle=[1] * 20)
        self.assertEqual(load_allowlist.main([self.export(3), "--table", "t"], dynamo, sleep=lambda s: None), 1)
        self.assertEqual(len(dynamo.calls), load_allowlist.MAX_ATTEMPTS)


if __name__ == "__main__":
    unittest.main()
