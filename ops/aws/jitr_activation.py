"""AWS IoT just-in-time registration (JITR): the activation function.

AWS IoT registers a new certificate of a CA registered with
--allow-auto-registration as PENDING_ACTIVATION and publishes
$aws/events/certificates/registered/<caCertificateId>. A rule sends that event
here. This function activates the certificate only if the signing station's
audit export lists it (the allow-list table, keyed by serial, loaded from
`stationctl audit export --format aws-jitr-allowlist`); anything else is
revoked. See README.md in this folder for deployment.

Environment: ALLOWLIST_TABLE (DynamoDB table name), IOT_POLICY (policy to
attach), THING_GROUP (optional group to add the thing to).
"""
import base64
import hashlib
import logging
import os

log = logging.getLogger("jitr-activation")
log.setLevel(logging.INFO)


def pem_to_der(pem):
    """The DER bytes of the first certificate in a PEM string."""
    begin, end = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"
    body = pem[pem.index(begin) + len(begin):pem.index(end)]
    return base64.b64decode("".join(body.split()), validate=True)


def _der_item(data, at):
    """(tag, content start, content end) of the DER element at `at`."""
    tag = data[at]
    length = data[at + 1]
    start = at + 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4:
            raise ValueError("unsupported DER length")
        length = int.from_bytes(data[start:start + count], "big")
        start += count
    if start + length > len(data):
        raise ValueError("DER element runs past the end")
    return tag, start, start + length


def serial_of(der):
    """The certificate's serial number as lowercase hex without leading zeros,
    the form the station's export keys the allow-list by."""
    tag, start, _ = _der_item(der, 0)           # Certificate SEQUENCE
    tag, start, _ = _der_item(der, start)        # tbsCertificate SEQUENCE
    if tag != 0x30:
        raise ValueError("not a certificate")
    tag, s, e = _der_item(der, start)
    if tag == 0xA0:                              # [0] version, skip it
        tag, s, e = _der_item(der, e)
    if tag != 0x02:
        raise ValueError("serialNumber is not an INTEGER")
    return format(int.from_bytes(der[s:e], "big", signed=True), "x")


def decide(certificate_id, certificate_pem, table):
    """("ACTIVE", item) when the allow-list vouches for this very certificate,
    ("REVOKED", reason) otherwise. `table` is a DynamoDB Table (get_item)."""
    der = pem_to_der(certificate_pem)
    if hashlib.sha256(der).hexdigest() != certificate_id:
        return "REVOKED", "the certificate does not hash to its certificateId"
    serial = serial_of(der)
    item = table.get_item(Key={"serial": serial}).get("Item")
    if item is None:
        return "REVOKED", "serial %s is not in the station's allow-list" % serial
    # Serials are unique per CA, not across CAs: the whole certificate must match.
    if item.get("certificateId") != certificate_id:
        return "REVOKED", "serial %s is listed for another certificate" % serial
    return "ACTIVE", item


def handler(event, context, iot=None, table=None):
    """The Lambda entry point. `iot` and `table` are for tests; in AWS they are
    made from boto3 here."""
    if iot is None or table is None:
        import boto3  # only in AWS; the tests pass their own clients
        iot = iot or boto3.client("iot")
        table = table or boto3.resource("dynamodb").Table(os.environ["ALLOWLIST_TABLE"])
    certificate_id = event["certificateId"]
    if event.get("certificateStatus") != "PENDING_ACTIVATION":
        return {"certificateId": certificate_id, "decision": "IGNORED", "reason": "not pending activation"}
    description = iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]
    decision, detail = decide(certificate_id, description["certificatePem"], table)
    if decision != "ACTIVE":
        iot.update_certificate(certificateId=certificate_id, newStatus="REVOKED")
        log.warning("revoked %s: %s", certificate_id, detail)
        return {"certificateId": certificate_id, "decision": "REVOKED", "reason": detail}
    item = detail
    arn = description["certificateArn"]
    thing = item.get("thingName") or item["deviceId"]
    request = {"thingName": thing,
               "attributePayload": {"attributes": dict(item.get("attributes", {})), "merge": True}}
    if item.get("thingType"):
        request["thingTypeName"] = item["thingType"]
    try:
        iot.create_thing(**request)
    except iot.exceptions.ResourceAlreadyExistsException:
        pass  # a reconnect after a half-finished activation
    iot.attach_policy(policyName=os.environ.get("IOT_POLICY", "station-device-policy"), target=arn)
    iot.attach_thing_principal(thingName=thing, principal=arn)
    if os.environ.get("THING_GROUP"):
        iot.add_thing_to_thing_group(thingGroupName=os.environ["THING_GROUP"], thingName=thing)
    iot.update_certificate(certificateId=certificate_id, newStatus="ACTIVE")
    log.info("activated %s for thing %s (audit record %s)", certificate_id, thing, item.get("auditSeq"))
    return {"certificateId": certificate_id, "decision": "ACTIVE", "thingName": thing}
