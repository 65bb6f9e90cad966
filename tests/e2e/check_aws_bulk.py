"""Checks an `aws-bulk` export as AWS IoT's bulk registration would take it.

    python3 check_aws_bulk.py DIR RECORDS.jsonl

DIR is `stationctl audit export --format aws-bulk --out DIR`, RECORDS the same
log exported as jsonl (for each certificate's ID). Every line of
DIR/registration.ndjson must parse and carry exactly the template's declared
parameters; the template must parse, fit AWS's 10,240 characters and refer only
to declared parameters; each CertificatePem must hash to its record's
certificate ID and verify against the CACertificatePem beside it.
"""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile


def refs(node):
    """Every {"Ref": name} under a template node."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            yield node["Ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def der_of(pem):
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return base64.b64decode("".join(body.split()), validate=True)


def fail(message):
    print("check_aws_bulk: " + message)
    sys.exit(1)


def main(directory, records_path):
    with open(os.path.join(directory, "template.json"), encoding="utf-8") as f:
        text = f.read()
    if len(text) > 10240:
        fail("template.json has %d characters" % len(text))
    template = json.loads(text)
    declared = set(template["Parameters"])
    used = set(refs(template["Resources"]))
    if not used <= declared:
        fail("the template refers to undeclared parameters %s" % sorted(used - declared))
    types = {r["Type"] for r in template["Resources"].values()}
    if types != {"AWS::IoT::Thing", "AWS::IoT::Certificate", "AWS::IoT::Policy"}:
        fail("resources %s" % sorted(types))
    cert = next(r for r in template["Resources"].values() if r["Type"] == "AWS::IoT::Certificate")
    if cert["Properties"].get("Status") != "ACTIVE":
        fail("the certificate is not made ACTIVE")
    with open(records_path, encoding="utf-8") as f:
        by_serial = {r["serial_hex"]: r for r in map(json.loads, f)}
    lines = 0
    with open(os.path.join(directory, "registration.ndjson"), "rb") as f, tempfile.TemporaryDirectory() as tmp:
        for number, raw in enumerate(f, 1):
            line = json.loads(raw.decode("utf-8"))  # strict: valid UTF-8 and JSON
            if set(line) != declared:
                fail("line %d carries %s, the template declares %s" % (number, sorted(line), sorted(declared)))
            record = by_serial[line["SerialNumber"]]
            der = der_of(line["CertificatePem"])
            if hashlib.sha256(der).hexdigest() != record["certificate_id"]:
                fail("line %d: the certificate does not hash to its record's certificate ID" % number)
            if line["ThingName"] != record["thing_name"]:
                fail("line %d: thing %s, the record says %s" % (number, line["ThingName"], record["thing_name"]))
            ca_file, cert_file = os.path.join(tmp, "ca.pem"), os.path.join(tmp, "cert.pem")
            with open(ca_file, "w") as out:
                out.write(line["CACertificatePem"])
            with open(cert_file, "w") as out:
                out.write(line["CertificatePem"])
            verified = subprocess.run(["openssl", "verify", "-partial_chain", "-CAfile", ca_file, cert_file],
                                      capture_output=True, text=True)
            if verified.returncode != 0:
                fail("line %d: %s" % (number, verified.stdout + verified.stderr))
            lines += 1
    print("check_aws_bulk: %d lines, %d parameters, template %d characters: OK" % (lines, len(declared), len(text)))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
