/**
 * Cookies the docs sign-on keeps in the browser, sealed: encrypted and authenticated (JWE, `dir` + A256GCM, from
 * jose) with a key derived from the client secret by HKDF, so the browser can neither read nor forge them and every
 * replica opens every cookie without shared state. Each cookie carries its own expiry.
 */
import { hkdfSync } from 'node:crypto';
import { EncryptJWT, type JWTPayload, jwtDecrypt } from 'jose';

/** A key per client secret and purpose (the session and the login in flight never open each other's cookies). */
export function cookieKey(clientSecret: string, purpose: 'session' | 'login'): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', clientSecret, 'modelgate docs sign-on', `cookie:${purpose}`, 32));
}

/** Seals `payload` until `expiresAt` (seconds since the epoch). */
export async function seal(payload: JWTPayload, key: Uint8Array, expiresAt: number): Promise<string> {
  return new EncryptJWT(payload)
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM' })
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .encrypt(key);
}

/** The payload of a sealed value, or undefined when it is forged, from another key, or expired. */
export async function open(value: string | undefined, key: Uint8Array): Promise<JWTPayload | undefined> {
  if (!value) return undefined;
  try {
    return (await jwtDecrypt(value, key, { clockTolerance: 0 })).payload;
  } catch {
    return undefined;
  }
}

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax (the provider's redirect back is a top-level GET), Secure on HTTPS. */
export function cookie(name: string, value: string, maxAgeSeconds: number, secure: boolean): string {
  return [
    `${name}=${value}`,
    'Path=/',
    `Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`,
    'HttpOnly',
    'SameSite=Lax',
    ...(secure ? ['Secure'] : []),
  ].join('; ');
}
