#!/usr/bin/env python3
"""Signs device CSRs at the station, as a line controller would.

    PYTHONPATH=clients/python:build/python python3 clients/python/examples/sign_csrs.py \
        --config line.conf [--profile aws-iot-device] [--out DIR] DEVICE_ID=CSR.der...

Each device's certificate and chain go to DIR/DEVICE_ID.pem; one line per device on stdout
("DEVICE_ID ok SERIAL" or "DEVICE_ID REASON: message"). Exit 0 when every device got one.
"""
import argparse
import pathlib
import sys

from station_client import LineClient, SignItem


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", required=True, help="the line's config (target and [tls] files)")
    parser.add_argument("--profile", default="", help="the issuance profile (the station's default if none)")
    parser.add_argument("--out", default=".", help="where the certificates go")
    parser.add_argument("devices", nargs="+", metavar="DEVICE_ID=CSR.der")
    args = parser.parse_args()
    items = []
    for device in args.devices:
        device_id, _, path = device.partition("=")
        if not device_id or not path:
            parser.error(f"'{device}' is not DEVICE_ID=CSR.der")
        items.append(SignItem(csr_der=pathlib.Path(path).read_bytes(), device_id=device_id, profile=args.profile))
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = 0
    with LineClient.from_line_conf(args.config) as client:
        results = client.sign_all(items)
    for item in items:
        result = results[item.request_id]
        if result.ok:
            (out / f"{item.device_id}.pem").write_text(result.certificate_pem())
            print(f"{item.device_id} ok {result.serial_hex}")
        else:
            failed += 1
            print(f"{item.device_id} {result.reason}: {result.message}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
