"""The pre-provisioning hook against a real station export.

    PROVISIONING=provisioning.jsonl CLAIMS=claims.jsonl python3 -m unittest test_preprovision_hook

PROVISIONING is `stationctl audit export --format aws-provisioning-allowlist
--profile <device profile>` of a station's device records, CLAIMS the same
export of its claim records (the default); tests/e2e/jitr_example_test.sh
makes both on a fresh station.
"""
import os
import unittest

import preprovision_hook
from test_jitr_activation import Table


def request(serial, claim="claim-cert-of-the-lot"):
    event = {"claimCertificateId": claim, "certificateId": "new-cert", "certificatePem": "-----BEGIN...",
             "templateArn": "arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/factory", "clientId": "c1",
             "parameters": {}}
    if serial is not None:
        event["parameters"]["SerialNumber"] = serial
    return event


class HookTest(unittest.TestCase):
    def setUp(self):
        self.table = Table(os.environ["PROVISIONING"], key="deviceId")
        self.devices = sorted(self.table.items)
        self.assertGreater(len(self.devices), 0)
        for device in self.devices:
            self.assertIs(self.table.items[device]["claim"], False, "device records, not claims")
        # A claim per device, as the station issued it.
        claims = Table(os.environ["CLAIMS"], key="deviceId")
        self.assertEqual(len(claims.items), 1)
        (self.claimed, self.claim), = claims.items.items()
        self.assertIs(self.claim["claim"], True)
        self.assertEqual(self.claim["profile"], "fleet-claim")
        self.table.items[self.claimed] = self.claim

    def test_a_device_the_station_made_may_provision_with_any_claim(self):
        # By trusted user: AWS issued the temporary claim.
        for device in self.devices:
            self.assertEqual(preprovision_hook.handler(request(device), None, self.table),
                             {"allowProvisioning": True, "parameterOverrides": {}})

    def test_a_serial_the_station_never_vouched_for_is_refused(self):
        for serial in ("not-made-here", "", None):
            self.assertEqual(preprovision_hook.handler(request(serial), None, self.table),
                             {"allowProvisioning": False}, serial)

    def test_a_claim_per_device_provisions_only_its_own_serial(self):
        own = self.claim["certificateId"]
        allowed = preprovision_hook.handler(request(self.claimed, own), None, self.table)
        self.assertTrue(allowed["allowProvisioning"])
        stolen = preprovision_hook.handler(request(self.claimed, "0" * 64), None, self.table)
        self.assertFalse(stolen["allowProvisioning"], "another device's claim must not provision this serial")
        allowed, reason = preprovision_hook.decide(request(self.claimed, "0" * 64), self.table)
        self.assertIn("another claim certificate", reason)
        # Nor may this claim provision a serial it was not given.
        self.assertFalse(preprovision_hook.handler(request("serial-9999", own), None, self.table)["allowProvisioning"])


if __name__ == "__main__":
    unittest.main()
