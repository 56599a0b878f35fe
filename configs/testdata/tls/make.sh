#!/bin/sh
# Makes the TLS fixtures of configs/tls_test.go and e2e/tls_test.go the way
# Kafka's security documentation does (keytool for the Java stores, openssl
# for the CA and the PEM files). Everything is valid for 100 years.
# Run it in this folder: sh make.sh
set -eu
cd "$(dirname "$0")"
DAYS=36500
CA_PASS=ca-pass-0           # the CA's key, not checked in
TRUST_PASS=trust-pass-1     # truststore.jks, truststore.p12
CLIENT_PASS=client-pass-2   # client.p12 (store and key), client.jks (store)
KEY_PASS=key-pass-3         # client.jks (its key only)
PEM_KEY_PASS=pem-key-pass-4 # client-enc.key, client-enc.pem
SERVER_PASS=server-pass-5   # server.p12
rm -f ./*.jks ./*.p12 ./*.pem ./*.key ./*.csr ./*.srl ./*.crt

# The certificate authority (Kafka docs: openssl req -new -x509 ...).
openssl req -new -x509 -newkey rsa:2048 -keyout ca.key -out ca.pem -days $DAYS \
	-subj "/CN=strait test CA" -passout pass:$CA_PASS

# Trust stores holding the CA (keytool -import -alias CARoot).
keytool -keystore truststore.jks -storetype JKS -alias CARoot -importcert -file ca.pem \
	-storepass $TRUST_PASS -noprompt
keytool -keystore truststore.p12 -storetype PKCS12 -alias CARoot -importcert -file ca.pem \
	-storepass $TRUST_PASS -noprompt

# sign ALIAS STORE PASS TYPE EXT: a key pair in STORE, signed by the CA, with
# the CA imported as CARoot and the signed certificate imported back.
sign() {
	keytool -keystore "$2" -storetype "$4" -alias "$1" -validity $DAYS -genkeypair -keyalg RSA -keysize 2048 \
		-dname "CN=$1" -ext "$5" -storepass "$3" -keypass "$3"
	keytool -keystore "$2" -storetype "$4" -alias "$1" -certreq -file "$1.csr" -storepass "$3" -ext "$5"
	openssl x509 -req -CA ca.pem -CAkey ca.key -in "$1.csr" -out "$1.crt" -days $DAYS -CAcreateserial \
		-passin pass:$CA_PASS -copy_extensions copyall
	keytool -keystore "$2" -storetype "$4" -alias CARoot -importcert -file ca.pem -storepass "$3" -noprompt
	keytool -keystore "$2" -storetype "$4" -alias "$1" -importcert -file "$1.crt" -storepass "$3" -noprompt
}

# The broker's key store (for 127.0.0.1 and localhost) and the client's.
sign localhost server.p12 $SERVER_PASS PKCS12 "SAN=DNS:localhost,IP:127.0.0.1"
sign client client.p12 $CLIENT_PASS PKCS12 "EKU=clientAuth"

# The client's key in a JKS key store whose key has its own password.
keytool -importkeystore -srckeystore client.p12 -srcstoretype PKCS12 -srcstorepass $CLIENT_PASS \
	-srcalias client -destkeystore client.jks -deststoretype JKS -deststorepass $CLIENT_PASS \
	-destalias client -destkeypass $KEY_PASS -noprompt
keytool -keystore client.jks -storetype JKS -alias CARoot -importcert -file ca.pem -storepass $CLIENT_PASS -noprompt

# PEM: the chains, PKCS#8 keys (plain and encrypted), both in one file, and
# the server's for kfake.
pemof() { # STORE PASS ALIAS -> ALIAS.key (PKCS#8) and ALIAS-chain.pem
	openssl pkcs12 -in "$1" -passin pass:"$2" -nocerts -nodes | openssl pkcs8 -topk8 -nocrypt -out "$3.key"
	cat "$3.crt" ca.pem > "$3-chain.pem"
}
pemof server.p12 $SERVER_PASS localhost
mv localhost.key server.key
mv localhost-chain.pem server-chain.pem
pemof client.p12 $CLIENT_PASS client
openssl pkcs8 -topk8 -in client.key -out client-enc.key -v2 aes-256-cbc -passout pass:$PEM_KEY_PASS
cat client-chain.pem client.key > client.pem
cat client-chain.pem client-enc.key > client-enc.pem
openssl pkey -in client.key -traditional -out client-pkcs1.key # refused: Kafka reads PKCS#8 only

rm -f ./*.csr ./*.srl ./*.crt ca.key
chmod 644 ./*.key # test keys, read by every test
