"""AWS IoT fleet provisioning: the pre-provisioning hook.

Before RegisterThing provisions a device, AWS IoT calls this function with the
request (payload version 2020-04-01):

    {"claimCertificateId": "...", "certificateId": "...", "certificatePem": "...",
     "templateArn": "...", "clientId": "...", "parameters": {"SerialNumber": "..."}}

It allows provisioning only for a serial the signing station's records vouch
for: the provisioning allow-list (a DynamoDB table keyed by deviceId, loaded
from `stationctl audit export --format aws-provisioning-allowlist` with
load_allowlist.py --key deviceId), read with consistent reads.

- By claim, a claim certificate per device: the item is that claim's record
  ("claim": true) and the device must present that very claim certificate, so
  one device's claim cannot provision another serial.
- By trusted user (AWS issues the temporary claim) or a claim per lot: the item
  is the device's own record from the line ("claim": false); the claim used is
  AWS's or the lot's.

Environment: ALLOWLIST_TABLE (the DynamoDB table).
"""
import logging
import os

log = logging.getLogger("preprovision-hook")
log.setLevel(logging.INFO)


def decide(event, table):
    """(True, item) to allow provisioning; (False, reason) to refuse it."""
    serial = (event.get("parameters") or {}).get("SerialNumber")
    if not serial:
        return False, "the request carries no SerialNumber parameter"
    item = table.get_item(Key={"deviceId": serial}, ConsistentRead=True).get("Item")
    if item is None:
        return False, "serial %s is not in the station's provisioning allow-list" % serial
    if item.get("claim") is True and item.get("certificateId") != event.get("claimCertificateId"):
        return False, "serial %s was given another claim certificate" % serial
    return True, item


def handler(event, context, table=None):
    """The Lambda entry point; `table` is for tests."""
    if table is None:
        import boto3  # only in AWS; the tests pass their own table
        table = boto3.resource("dynamodb").Table(os.environ["ALLOWLIST_TABLE"])
    allowed, detail = decide(event, table)
    if not allowed:
        log.warning("refused provisioning (claim %s): %s", event.get("claimCertificateId"), detail)
        return {"allowProvisioning": False}
    log.info("allowed provisioning of %s (audit record %s)", detail["deviceId"], detail.get("auditSeq"))
    return {"allowProvisioning": True, "parameterOverrides": {}}
