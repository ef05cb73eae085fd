// Sensors module
