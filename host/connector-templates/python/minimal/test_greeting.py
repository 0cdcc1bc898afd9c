import unittest

from greeting import greet


class GreetTest(unittest.TestCase):
    def test_hello_greets_by_name(self):
        self.assertEqual(greet("Hello", {"name": "Ada"}), {"message": "Hello, Ada!"})

    def test_no_name_greets_the_world(self):
        self.assertEqual(greet("Hi", {}), {"message": "Hi, world!"})


if __name__ == "__main__":
    unittest.main()
