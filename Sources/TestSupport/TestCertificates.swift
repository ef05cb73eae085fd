import Foundation
import TestKit

/// A throw-away PKI made with the `openssl` tool: a CA, a server certificate for 127.0.0.1 and
/// localhost, and a client certificate, all signed by that CA; plus an unrelated CA for
/// "wrong CA" tests. Files live in a temporary directory removed with this object.
public final class TestCertificates: Sendable {
    public let directory: TemporaryDirectory
    public var caFile: String { self.directory.file("ca.crt") }
    public var serverCertFile: String { self.directory.file("server.crt") }
    public var serverKeyFile: String { self.directory.file("server.key") }
    public var clientCertFile: String { self.directory.file("client.crt") }
    public var clientKeyFile: String { self.directory.file("client.key") }
    /// A server certificate signed by the right CA but for another host name (`elsewhere.invalid`),
    /// to prove the client checks the broker's name.
    public var wrongNameServerCertFile: String { self.directory.file("wrong-name.crt") }
    public var wrongNameServerKeyFile: String { self.directory.file("wrong-name.key") }
    /// A CA that signed nothing here: a client trusting only this must refuse the broker.
    public var otherCAFile: String { self.directory.file("other-ca.crt") }

    public static let openssl = "/usr/bin/openssl"

    /// Generates every file (EC P-256 keys, valid for two days).
    public init() async throws {
        self.directory = try TemporaryDirectory(prefix: "certs")
        try await self.makeCA(name: "ca", commonName: "rlt test CA")
        try await self.makeCA(name: "other-ca", commonName: "rlt unrelated CA")
        try await self.makeLeaf(
            name: "server", commonName: "127.0.0.1",
            extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        try await self.makeLeaf(
            name: "wrong-name", commonName: "elsewhere.invalid",
            extensions: "subjectAltName=DNS:elsewhere.invalid\nextendedKeyUsage=serverAuth\n")
        try await self.makeLeaf(
            name: "client", commonName: "rlt-test-client", extensions: "extendedKeyUsage=clientAuth\n")
    }

    /// The broker side of this PKI, for ``MosquittoBroker/Options``.
    public func brokerTLS(requireCertificate: Bool) -> MosquittoBroker.TLS {
        MosquittoBroker.TLS(
            caFile: self.caFile, certFile: self.serverCertFile, keyFile: self.serverKeyFile,
            requireCertificate: requireCertificate)
    }

    private func makeCA(name: String, commonName: String) async throws {
        try await ProcessRunner.run(
            Self.openssl,
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.directory.file("\(name).key"), "-out", self.directory.file("\(name).crt"),
                "-days", "2", "-subj", "/CN=\(commonName)",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
    }

    private func makeLeaf(name: String, commonName: String, extensions: String) async throws {
        let extensionsFile = try self.directory.write("\(name).ext", extensions)
        try await ProcessRunner.run(
            Self.openssl,
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", self.directory.file("\(name).key"), "-out", self.directory.file("\(name).csr"),
                "-subj", "/CN=\(commonName)",
            ])
        try await ProcessRunner.run(
            Self.openssl,
            [
                "x509", "-req", "-in", self.directory.file("\(name).csr"),
                "-CA", self.caFile, "-CAkey", self.directory.file("ca.key"), "-CAcreateserial",
                "-CAserial", self.directory.file("\(name).srl"),
                "-out", self.directory.file("\(name).crt"), "-days", "2", "-extfile", extensionsFile,
            ])
    }
}
