// Not used by the tests: the interface exists so that the SDK's imports resolve.
