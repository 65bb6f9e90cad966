"""Runs the activation function against a real station export.

    ALLOWLIST=allow.jsonl RECORDS=all.jsonl OTHER_CERT=ca.pem python3 -m unittest test_jitr_activation

ALLOWLIST is `stationctl audit export --format aws-jitr-allowlist`, RECORDS the
same range as `--format jsonl` (for the certificates' PEM, which AWS IoT
would return from describe-certificate), OTHER_CERT a certificate the station
never issued. tests/CMakeLists.txt runs this on a fresh station.
"""
import hashlib
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
    if kind == "M":
        return {k: untyped(v) for k, v in inner.items()}
    raise ValueError("unexpected DynamoDB type " + kind)


class Table:
    """The allow-list table, loaded from the export as DynamoDB's S3 import would."""

    def __init__(self, path):
        self.items = {}
        with open(path) as f:
            for line in f:
                item = {k: untyped(v) for k, v in json.loads(line)["Item"].items()}
                self.items[item["serial"]] = item

    def get_item(self, Key):
        item = self.items.get(Key["serial"])
        return {"Item": item} if item else {}


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
            self.records = [json.loads(line) for line in f]
        pems = {r["certificate_id"]: r["certificate_pem"] for r in self.records}
        with open(os.environ["OTHER_CERT"]) as f:
            self.other_pem = f.read()
        self.other_id = hashlib.sha256(jitr_activation.pem_to_der(self.other_pem)).hexdigest()
        pems[self.other_id] = self.other_pem
        self.iot = Iot(pems)
        self.assertEqual(len(self.table.items), len(self.records))
        self.assertGreater(len(self.records), 0)

    def test_every_exported_certificate_is_activated_as_its_thing(self):
        for record in self.records:
            result = jitr_activation.handler(event(record["certificate_id"]), None, self.iot, self.table)
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

    def test_a_certificate_the_station_never_issued_is_revoked(self):
        result = jitr_activation.handler(event(self.other_id), None, self.iot, self.table)
        self.assertEqual(result["decision"], "REVOKED")
        self.assertEqual(self.iot.calls, [("update_certificate", {"certificateId": self.other_id,
                                                                  "newStatus": "REVOKED"})])

    def test_a_listed_serial_on_another_certificate_is_revoked(self):
        # Another CA may issue the same serial: only the very certificate counts.
        record = self.records[0]
        self.table.items[jitr_activation.serial_of(jitr_activation.pem_to_der(self.other_pem))] = {
            "serial": "x", "certificateId": record["certificate_id"]}
        result = jitr_activation.handler(event(self.other_id), None, self.iot, self.table)
        self.assertEqual(result["decision"], "REVOKED")
        self.assertIn("another certificate", result["reason"])

    def test_a_reconnect_after_activation_is_harmless(self):
        record = self.records[0]
        for _ in range(2):
            result = jitr_activation.handler(event(record["certificate_id"]), None, self.iot, self.table)
            self.assertEqual(result["decision"], "ACTIVE")


if __name__ == "__main__":
    unittest.main()
