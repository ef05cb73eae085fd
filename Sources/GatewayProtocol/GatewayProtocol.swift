// GatewayProtocol module
