"""Runs the activation function against a real station export.

    ALLOWLIST=allow.jsonl RECORDS=all.jsonl OTHER_CERT=ca.pem python3 -m unittest test_jitr_activation

ALLOWLIST is `stationctl audit export --format aws-jitr-allowlist`, RECORDS the
same range as `--format jsonl` (for the certificates' PEM, which AWS IoT
would return from describe-certificate), OTHER_CERT a certificate the station
never issued. tests/CMakeLists.txt runs this on a fresh station.
"""
import contextlib
import hashlib
import io
import json
import os
import unittest

import jitr_activation


def untyped(value):
    """DynamoDB JSON ({"S": ...}, {"N": ...}, {"M": ...}) as boto3's Table returns it."""
    (kind, inner), = value.items()
    if kind == "S":
        return inner
    if kind == "N":
        return int(inner)
    if kind == "BOOL":
        return inner
    if kind == "M":
        return {k: untyped(v) for k, v in inner.items()}
    raise ValueError("unexpected DynamoDB type " + kind)


class Table:
    """An allow-list table keyed by `key`, loaded from the export as DynamoDB's
    S3 import would."""

    def __init__(self, path, key="serial"):
        self.key = key
        self.items = {}
        with open(path) as f:
            for line in f:
                item = {k: untyped(v) for k, v in json.loads(line)["Item"].items()}
                self.items[item[key]] = item

    def get_item(self, Key, ConsistentRead=False):
        assert ConsistentRead, "the allow-list is read with consistent reads"
        item = self.items.get(Key[self.key])
        return {"Item": item} if item else {}


class Sns:
    def __init__(self):
        self.published = []

    def publish(self, **kwargs):
        self.published.append(kwargs)


class Iot:
    """Records the calls the function makes; knows the certificates AWS IoT saw."""

    class exceptions:
        class ResourceAlreadyExistsException(Exception):
            pass

    def __init__(self, pems):
        self.pems = pems
        self.calls = []
        self.things = set()

    def describe_certificate(self, certificateId):
        return {"certificateDescription": {"certificateId": certificateId,
                                           "certificateArn": "arn:aws:iot:eu-west-1:1:cert/" + certificateId,
                                           "certificatePem": self.pems[certificateId]}}

    def __getattr__(self, name):
        def call(**kwargs):
            self.calls.append((name, kwargs))
            if name == "create_thing":
                if kwargs["thingName"] in self.things:
                    raise Iot.exceptions.ResourceAlreadyExistsException()
                self.things.add(kwargs["thingName"])
        return call


def event(certificate_id):
    return {"certificateId": certificate_id, "caCertificateId": "ca", "timestamp": 1700000000,
            "certificateStatus": "PENDING_ACTIVATION", "awsAccountId": "1",
            "certificateRegistrationTimestamp": "1700000000"}


class ActivationTest(unittest.TestCase):
    def setUp(self):
        self.table = Table(os.environ["ALLOWLIST"])
        with open(os.environ["RECORDS"]) as f:
            every = [json.loads(line) for line in f]
        # The allow-list vouches for the JITR profile's devices and for nothing else (not a claim).
        self.records = [r for r in every if r["profile"] == "aws-iot-device"]
        self.others = [r for r in every if r["profile"] != "aws-iot-device"]
        pems = {r["certificate_id"]: r["certificate_pem"] for r in every}
        with open(os.environ["OTHER_CERT"]) as f:
            self.other_pem = f.read()
        self.other_id = hashlib.sha256(jitr_activation.pem_to_der(self.other_pem)).hexdigest()
        pems[self.other_id] = self.other_pem
        self.iot = Iot(pems)
        self.assertEqual(len(self.table.items), len(self.records))
        for other in self.others:
            self.assertNotIn(other["serial_hex"], self.table.items, other["profile"])
        self.assertGreater(len(self.records), 0)

    def test_every_exported_certificate_is_activated_as_its_thing(self):
        for record in self.records:
            result, _ = self.handle(record["certificate_id"])
            self.assertEqual(result["decision"], "ACTIVE", result)
            self.assertEqual(result["thingName"], record["thing_name"])
            # The serial the function read from the DER is the one the station recorded.
            der = jitr_activation.pem_to_der(record["certificate_pem"])
            self.assertEqual(jitr_activation.serial_of(der), record["serial_hex"])
        names = [c[0] for c in self.iot.calls]
        self.assertEqual(names.count("update_certificate"), len(self.records))
        first = self.records[0]
        create = next(c[1] for c in self.iot.calls if c[0] == "create_thing")
        self.assertEqual(create["thingName"], first["thing_name"])
        self.assertEqual(create.get("thingTypeName", ""), first["thing_type"])
        self.assertEqual(create["attributePayload"]["attributes"], first["thing_attributes"])
        self.assertIn(("update_certificate", {"certificateId": first["certificate_id"], "newStatus": "ACTIVE"}),
                      self.iot.calls)

    def handle(self, certificate_id, sns=None):
        """The function's answer, and the report lines it printed."""
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            result = jitr_activation.handler(event(certificate_id), None, self.iot, self.table, sns)
        return result, [json.loads(line) for line in out.getvalue().splitlines()]

    def test_a_certificate_the_allow_list_does_not_know_yet_stays_pending_and_is_reported(self):
        # REVOKED is final: the allow-list lags the line, so unknown is not refused.
        sns = Sns()
        os.environ["ALERT_TOPIC_ARN"] = "arn:aws:sns:eu-west-1:1:jitr-alerts"
        try:
            result, reports = self.handle(self.other_id, sns)
        finally:
            del os.environ["ALERT_TOPIC_ARN"]
        self.assertEqual(result["decision"], "PENDING", result)
        self.assertIn("not in the allow-list", result["reason"])
        self.assertEqual(self.iot.calls, [], "no status change, no thing")
        self.assertEqual(len(reports), 1)
        self.assertEqual(reports[0]["Decision"], "PENDING")
        self.assertEqual(reports[0]["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"], "Certificates")
        self.assertEqual(len(sns.published), 1)
        self.assertEqual(json.loads(sns.published[0]["Message"])["certificateId"], self.other_id)

    def test_a_pending_certificate_is_activated_once_the_allow_list_catches_up(self):
        record = self.records[0]
        serial = record["serial_hex"]
        item = self.table.items.pop(serial)
        result, _ = self.handle(record["certificate_id"])
        self.assertEqual(result["decision"], "PENDING")
        self.table.items[serial] = item  # the next export is loaded
        result, _ = self.handle(record["certificate_id"])
        self.assertEqual(result["decision"], "ACTIVE")

    def test_a_listed_serial_on_another_certificate_is_revoked(self):
        # Another CA may issue the same serial: only the very certificate counts.
        record = self.records[0]
        self.table.items[jitr_activation.serial_of(jitr_activation.pem_to_der(self.other_pem))] = {
            "serial": "x", "certificateId": record["certificate_id"], "jitr": True}
        result, reports = self.handle(self.other_id)
        self.assertEqual(result["decision"], "REVOKED")
        self.assertIn("another certificate", result["reason"])
        self.assertEqual(self.iot.calls, [("update_certificate", {"certificateId": self.other_id,
                                                                  "newStatus": "REVOKED"})])
        self.assertEqual(reports[0]["Decision"], "REVOKED")

    def test_a_certificate_of_a_profile_not_for_jitr_is_revoked(self):
        record = self.records[0]
        item = self.table.items[record["serial_hex"]]
        for change in ({"profile": "fleet-claim"}, {"jitr": False}):
            self.iot.calls.clear()
            self.table.items[record["serial_hex"]] = dict(item, **change)
            result, _ = self.handle(record["certificate_id"])
            self.assertEqual(result["decision"], "REVOKED", change)
            self.assertIn("not for JITR", result["reason"])
            self.assertNotIn("create_thing", [c[0] for c in self.iot.calls])

    def test_a_claim_certificate_is_never_activated(self):
        self.assertTrue(self.others, "the station issued a claim too")
        for other in self.others:
            result, _ = self.handle(other["certificate_id"])
            self.assertNotEqual(result["decision"], "ACTIVE", other["profile"])
            self.assertNotIn("create_thing", [c[0] for c in self.iot.calls])

    def test_an_item_without_the_jitr_flag_stays_pending(self):
        record = self.records[0]
        item = dict(self.table.items[record["serial_hex"]])
        del item["jitr"]
        self.table.items[record["serial_hex"]] = item
        result, _ = self.handle(record["certificate_id"])
        self.assertEqual(result["decision"], "PENDING")
        self.assertIn("predates the JITR flag", result["reason"])

    def test_a_reconnect_after_activation_is_harmless(self):
        record = self.records[0]
        for _ in range(2):
            result, _ = self.handle(record["certificate_id"])
            self.assertEqual(result["decision"], "ACTIVE")


if __name__ == "__main__":
    unittest.main()
