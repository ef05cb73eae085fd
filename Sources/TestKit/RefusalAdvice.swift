/// The dose a refusal advises (`… use dose_j_cm2 ≤ N`), read as an automation following the message
/// would read it; `nil` when the message advises none.
///
/// The advice is text for people, not a contract member; the simulator's returning user and the
/// rule tests read it the same way, so both check that following it works.
public func advisedDose(in message: String) -> Double? {
    guard let advice = message.range(of: "dose_j_cm2 ≤ ") else { return nil }
    return Double(message[advice.upperBound...].prefix { $0.isNumber || $0 == "." })
}
