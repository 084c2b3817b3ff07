/** Lifetimes and clock allowances of the certificates Keyless makes (no @peculiar/x509 here: start-up reads these). */
export const DAY_MS = 24 * 3600 * 1000;
/** Certificates are backdated so a peer whose clock lags ours (VMs, containers after resume) still accepts them. */
export const BACKDATE_MS = 3600 * 1000;
/** Ten years: the CA is never replaced automatically (users have trusted it), so it must outlive installs. */
export const CA_VALIDITY_DAYS = 3650;
/**
 * 365 days, inside the 397-day ceiling Apple platforms and browsers enforce on TLS server certificates;
 * ensurePki re-issues the leaf 30 days before expiry, so the short life costs nothing.
 */
export const LEAF_VALIDITY_DAYS = 365;
