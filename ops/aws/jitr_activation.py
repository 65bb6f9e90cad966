"""AWS IoT just-in-time registration (JITR): the activation function.

AWS IoT registers a new certificate of a CA registered with
--allow-auto-registration as PENDING_ACTIVATION and publishes
$aws/events/certificates/registered/<caCertificateId>. A rule sends that event
here. The function activates the certificate only if the signing station's
allow-list (a DynamoDB table keyed by serial, loaded from `stationctl audit
export --format aws-jitr-allowlist`) vouches for this very certificate.

REVOKED is final in AWS IoT, and the allow-list always lags the line (an export
stops at a signed checkpoint, then S3, then the table). So a certificate the
list does not know yet stays PENDING_ACTIVATION and is reported; only what the
records positively refuse is revoked: a listed serial whose record names
another certificate, or a profile not meant for JITR. The device retries; once
the list has caught up, its next connection activates it.

Environment: ALLOWLIST_TABLE (DynamoDB table), IOT_POLICY (policy to attach),
THING_GROUP (optional group for the thing), ALERT_TOPIC_ARN (optional SNS topic
for what stays pending), NON_JITR_PROFILES (profiles never activated; default
fleet-claim). See README.md in this folder.
"""
import base64
import hashlib
import json
import logging
import os
import time

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


ACTIVE, PENDING, REVOKED = "ACTIVE", "PENDING", "REVOKED"


def decide(certificate_id, certificate_pem, table, non_jitr_profiles=("fleet-claim",)):
    """(ACTIVE, item) when the allow-list vouches for this very certificate;
    (REVOKED, reason) when the records refuse it; (PENDING, reason) when they
    do not know it (yet). `table` is a DynamoDB Table (get_item)."""
    der = pem_to_der(certificate_pem)
    if hashlib.sha256(der).hexdigest() != certificate_id:
        return PENDING, "the certificate AWS IoT returned does not hash to its certificateId"
    serial = serial_of(der)
    # Strongly consistent: an item written a moment ago must be seen now.
    item = table.get_item(Key={"serial": serial}, ConsistentRead=True).get("Item")
    if item is None:
        return PENDING, "serial %s is not in the allow-list (yet): load the station's next export" % serial
    # Serials are unique per CA, not across CAs: the whole certificate must match.
    if item.get("certificateId") != certificate_id:
        return REVOKED, "serial %s is listed for another certificate" % serial
    if item.get("jitr") is False or item.get("profile") in non_jitr_profiles:
        return REVOKED, "serial %s was issued under profile %s, which is not for JITR" % (serial, item.get("profile"))
    if item.get("jitr") is not True:
        return PENDING, ("the allow-list item of serial %s predates the JITR flag: reload it from a current "
                         "export" % serial)
    return ACTIVE, item


def report(result, sns=None):
    """Logs a decision as a CloudWatch embedded-metric line (metric
    Certificates by Decision, namespace SigningStation/JITR) and, for what stays
    pending, publishes it to ALERT_TOPIC_ARN when set."""
    line = {"_aws": {"Timestamp": int(time.time() * 1000),
                     "CloudWatchMetrics": [{"Namespace": "SigningStation/JITR", "Dimensions": [["Decision"]],
                                            "Metrics": [{"Name": "Certificates", "Unit": "Count"}]}]},
            "Decision": result["decision"], "Certificates": 1}
    line.update(result)
    print(json.dumps(line, sort_keys=True))
    topic = os.environ.get("ALERT_TOPIC_ARN")
    if result["decision"] == PENDING and topic and sns is not None:
        sns.publish(TopicArn=topic, Subject="JITR: certificate left pending",
                    Message=json.dumps(result, sort_keys=True))


def handler(event, context, iot=None, table=None, sns=None):
    """The Lambda entry point. `iot`, `table` and `sns` are for tests; in AWS
    they are made from boto3 here."""
    if iot is None or table is None:
        import boto3  # only in AWS; the tests pass their own clients
        iot = iot or boto3.client("iot")
        table = table or boto3.resource("dynamodb").Table(os.environ["ALLOWLIST_TABLE"])
        if sns is None and os.environ.get("ALERT_TOPIC_ARN"):
            sns = boto3.client("sns")
    certificate_id = event["certificateId"]
    if event.get("certificateStatus") != "PENDING_ACTIVATION":
        return {"certificateId": certificate_id, "decision": "IGNORED", "reason": "not pending activation"}
    description = iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]
    refused = tuple(p for p in os.environ.get("NON_JITR_PROFILES", "fleet-claim").split(",") if p)
    decision, detail = decide(certificate_id, description["certificatePem"], table, refused)
    if decision == PENDING:
        result = {"certificateId": certificate_id, "decision": PENDING, "reason": detail}
        log.warning("left %s pending: %s", certificate_id, detail)
        report(result, sns)
        return result
    if decision == REVOKED:
        iot.update_certificate(certificateId=certificate_id, newStatus="REVOKED")
        result = {"certificateId": certificate_id, "decision": REVOKED, "reason": detail}
        log.warning("revoked %s: %s", certificate_id, detail)
        report(result, sns)
        return result
    item = detail
    arn = description["certificateArn"]
    thing = item["thingName"]  # a JITR profile always names the thing
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
    result = {"certificateId": certificate_id, "decision": ACTIVE, "thingName": thing}
    log.info("activated %s for thing %s (audit record %s)", certificate_id, thing, item.get("auditSeq"))
    report(result, sns)
    return result
