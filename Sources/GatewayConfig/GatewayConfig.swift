// GatewayConfig module
