import unittest

from rules import price_band


class PriceBandTest(unittest.TestCase):
    def test_from_fifty_on_a_product_is_premium(self):
        self.assertEqual(price_band({"price": "50.00"}), {"price_band": "premium"})
        self.assertEqual(price_band({"price": 12.5}), {"price_band": "standard"})

    def test_a_price_that_is_not_a_number_is_standard(self):
        self.assertEqual(price_band({"price": "n/a"}), {"price_band": "standard"})
        self.assertEqual(price_band({}), {"price_band": "standard"})


if __name__ == "__main__":
    unittest.main()
