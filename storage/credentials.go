package storage

import "github.com/omadm/omadm/auth"

// HashPassword returns the PasswordHash a store keeps for d: computed from
// d.Password and d.Username when Password is set, d.PasswordHash otherwise.
// The hash is the password-equivalent of the md5 and hmac schemes
// (OMA-TS-DM_Security-V1_2, syncml:auth-md5 and syncml:auth-MAC: both hash
// B64(H(user ":" password)), which the authenticator may store instead of
// the password): it verifies them, and verifies a
// basic credential by hashing the user:password it carries, but it is not a
// basic credential itself, so a reader of the database cannot log in with
// basic authentication.
func HashPassword(d *Device) string {
	if d.Password != "" {
		return auth.UserHash(d.Username, d.Password)
	}
	return d.PasswordHash
}
