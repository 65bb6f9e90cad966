#!/usr/bin/env python3
"""The layer check passes on this tree and fails on each kind of breach."""
import pathlib
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import check_layers  # noqa: E402

SOURCE = pathlib.Path(sys.argv.pop(1) if len(sys.argv) > 1 else pathlib.Path(__file__).parents[2])

TABLE = """| folder | what it holds | may use |
| --- | --- | --- |
| `base/` | the bottom | — |
| `hsm/` | the token | base |
| `audit/` | the log | base |
| `issuance/` | the pipeline | base, hsm, audit |
"""


class CheckLayersTest(unittest.TestCase):
    def setUp(self):
        self.root = pathlib.Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.root)
        (self.root / "docs").mkdir()
        (self.root / "docs" / "architecture.md").write_text(TABLE)
        self.write("hsm/key.h", '#include "station/base/error.h"\n')
        self.write("station/base/error.h", "#pragma once\n")
        self.write("station/audit/log.h", '#include "station/base/error.h"\n')
        self.write("station/issuance/pipeline.cc",
                   '#include "hsm/key.h"\n#include "station/audit/log.h"\n#include "station/base/error.h"\n')

    def write(self, path, text):
        (self.root / path).parent.mkdir(parents=True, exist_ok=True)
        (self.root / path).write_text(text)

    def test_this_tree_keeps_its_layers(self):
        self.assertEqual(check_layers.check(SOURCE), [])

    def test_a_tree_that_keeps_its_table_passes(self):
        self.assertEqual(check_layers.check(self.root), [])

    def test_an_include_upward_fails(self):
        self.write("station/audit/store.cc", '#include "station/issuance/pipeline.h"\n')
        problems = check_layers.check(self.root)
        self.assertEqual(len(problems), 1)
        self.assertIn("audit/ may not use issuance/", problems[0])

    def test_the_token_layer_may_not_reach_the_log(self):
        self.write("hsm/sign.cc", '#include "station/audit/log.h"\n')
        self.assertIn("hsm/ may not use audit/", " ".join(check_layers.check(self.root)))

    def test_a_program_may_not_include_a_test_helper(self):
        self.write("station/issuance/main.cc", '#include "tests/support/subprocess.h"\n')
        self.assertIn("a test helper", " ".join(check_layers.check(self.root)))

    def test_an_arrow_nobody_uses_fails(self):
        self.write("station/issuance/pipeline.cc", '#include "station/audit/log.h"\n')
        problems = check_layers.check(self.root)
        self.assertTrue(any("issuance/ may use hsm/, but none of its files does" in p for p in problems), problems)

    def test_only_the_store_speaks_sql(self):
        self.write("station/audit/log.cc", '#include <sqlite3.h>\n#include "station/base/error.h"\n')
        self.assertIn("only store/ speaks SQL", " ".join(check_layers.check(self.root)))

    def test_a_folder_without_a_row_fails(self):
        self.write("station/store/sqlite.cc", '#include "station/base/error.h"\n')
        self.assertIn("station/store/: a folder with no row", " ".join(check_layers.check(self.root)))


if __name__ == "__main__":
    unittest.main()
