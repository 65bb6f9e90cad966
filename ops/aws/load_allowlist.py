"""Loads an allow-list export into the JITR activation function's table.

    python3 load_allowlist.py EXPORT --table TABLE [--key serial|deviceId] [--region REGION]

EXPORT is `stationctl audit export --format aws-jitr-allowlist --out EXPORT`
(DynamoDB JSON lines, {"Item": {...}}, keyed by serial), or
`--format aws-provisioning-allowlist` (keyed by deviceId: --key deviceId), with
EXPORT.checkpoint beside it.
DynamoDB's import from S3 only ever creates a new table, so the first load may
use it; every later increment (`--since-seq`) goes through here: BatchWriteItem,
at most 25 puts a call, unprocessed items retried with backoff. A put of the
same item again changes nothing, so a rerun (or an overlapping export) is
harmless. Exit 0 when every item is in the table, 1 otherwise.
"""
import argparse
import json
import os
import sys
import time

BATCH = 25          # BatchWriteItem's limit
MAX_ATTEMPTS = 8    # per batch, with exponential backoff between them


class LoadError(Exception):
    pass


def read_items(path, key="serial"):
    """The export's items, the last of each key kept (one batch may not hold
    one key twice)."""
    if not os.path.exists(path + ".checkpoint"):
        raise LoadError("%s.checkpoint is missing: load only exports made by stationctl, which writes the signed "
                        "checkpoint beside them" % path)
    items = {}
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)["Item"]
                value = item[key]["S"]
            except (ValueError, KeyError, TypeError) as e:
                raise LoadError("%s line %d is not an allow-list item keyed by %s: %s" % (path, number, key, e))
            items[value] = item
    return list(items.values())


def load(items, table, client, sleep=time.sleep):
    """Writes `items` (DynamoDB JSON) with `client.batch_write_item`; returns
    the number of calls made."""
    calls = 0
    for start in range(0, len(items), BATCH):
        requests = [{"PutRequest": {"Item": item}} for item in items[start:start + BATCH]]
        for attempt in range(MAX_ATTEMPTS):
            calls += 1
            answer = client.batch_write_item(RequestItems={table: requests})
            requests = answer.get("UnprocessedItems", {}).get(table, [])
            if not requests:
                break
            if attempt + 1 < MAX_ATTEMPTS:
                sleep(min(0.05 * 2 ** attempt, 5.0))
        else:
            raise LoadError("%d items were still unprocessed after %d attempts (throughput exceeded?); "
                            "run again: a rerun is harmless" % (len(requests), MAX_ATTEMPTS))
    return calls


def main(argv=None, client=None, sleep=time.sleep):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export")
    parser.add_argument("--table", required=True)
    parser.add_argument("--key", default="serial", choices=["serial", "deviceId"],
                        help="the table's partition key: serial (JITR) or deviceId (provisioning)")
    parser.add_argument("--region")
    args = parser.parse_args(argv)
    try:
        items = read_items(args.export, args.key)
        if client is None:
            import boto3  # only where it loads for real; the tests pass their own client
            client = boto3.client("dynamodb", region_name=args.region)
        calls = load(items, args.table, client, sleep)
    except (LoadError, OSError) as e:
        print("load_allowlist: %s" % e, file=sys.stderr)
        return 1
    print("load_allowlist: %d items into %s in %d calls" % (len(items), args.table, calls))
    return 0


if __name__ == "__main__":
    sys.exit(main())
