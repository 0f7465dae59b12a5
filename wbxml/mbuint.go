package wbxml

// maxMbUint32Len is the longest mb_u_int32 encoding: 5 bytes of 7 bits.
const maxMbUint32Len = 5

// AppendMbUint32 appends the mb_u_int32 encoding of v (big-endian base 128,
// continuation bit 0x80 on all but the last byte) to dst.
func AppendMbUint32(dst []byte, v uint32) []byte {
	if v < 0x80 {
		return append(dst, byte(v))
	}
	var tmp [maxMbUint32Len]byte
	i := len(tmp) - 1
	tmp[i] = byte(v & 0x7F)
	v >>= 7
	for v != 0 {
		i--
		tmp[i] = byte(v&0x7F) | 0x80
		v >>= 7
	}
	return append(dst, tmp[i:]...)
}

// ReadMbUint32 decodes an mb_u_int32 at the start of b. It returns the value
// and the number of bytes used. It fails on truncated input, on encodings
// longer than 5 bytes and on values that do not fit in 32 bits.
func ReadMbUint32(b []byte) (uint32, int, error) {
	var v uint64
	for i := 0; i < len(b); i++ {
		if i == maxMbUint32Len {
			return 0, 0, errAt(i, ErrMalformed, "mb_u_int32 longer than 5 bytes")
		}
		c := b[i]
		v = v<<7 | uint64(c&0x7F)
		if c&0x80 == 0 {
			if v > 0xFFFFFFFF {
				return 0, 0, errAt(0, ErrMalformed, "mb_u_int32 overflows 32 bits")
			}
			return uint32(v), i + 1, nil
		}
	}
	return 0, 0, errAt(len(b), ErrTruncated, "truncated mb_u_int32")
}
