"""The pre-provisioning hook against a real station export.

    PROVISIONING=provisioning.jsonl python3 -m unittest test_preprovision_hook

PROVISIONING is `stationctl audit export --format aws-provisioning-allowlist`
of a station's device records (tests/e2e/jitr_example_test.sh makes one);
the by-claim items are added here as a claim profile's export writes them.
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
        # A claim per device, as the fleet-claim profile's export writes it.
        self.table.items["serial-0042"] = {"deviceId": "serial-0042", "certificateId": "claim-of-0042",
                                           "profile": "fleet-claim", "claim": True}

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
        allowed = preprovision_hook.handler(request("serial-0042", "claim-of-0042"), None, self.table)
        self.assertTrue(allowed["allowProvisioning"])
        stolen = preprovision_hook.handler(request("serial-0042", "claim-of-0043"), None, self.table)
        self.assertFalse(stolen["allowProvisioning"], "another device's claim must not provision this serial")
        allowed, reason = preprovision_hook.decide(request("serial-0042", "claim-of-0043"), self.table)
        self.assertIn("another claim certificate", reason)


if __name__ == "__main__":
    unittest.main()
