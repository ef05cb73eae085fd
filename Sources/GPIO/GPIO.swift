// GPIO module
