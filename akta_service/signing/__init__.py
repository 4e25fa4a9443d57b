"""Electronic signatures by the officer's own key: the signing-service adapter the
service calls, and the sandbox signing service (CA, tokens, OCSP, TSA) it calls."""
