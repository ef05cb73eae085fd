import TestKit

/// The property and exhaustive tests' world is the test kit's, shared with the command fuzz target.
typealias World = InvariantWorld
