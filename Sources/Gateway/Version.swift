/// The software version reported in `status`, `info` and discovery.
public enum GatewayVersion {
    public static let current = "0.1.0"
}
