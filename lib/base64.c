/*++
/* NAME
/*	base64 3
/* SUMMARY
/*	strict RFC 4648 base64
/* DESCRIPTION
/*	base64_decode() accepts the standard alphabet, with the final
/*	padding present or left out (clients differ), and nothing else:
/*	no white space, no data after padding, no non-zero bits left
/*	over. The output must have room for BASE64_DECODED_MAX(len)
/*	bytes. It returns 0, or -1 for any malformed input.
/*--*/
#include "base64.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* b64_value - 0..63, or -1 */
static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* base64_decode - strict decode */
int
base64_decode(const char *in, size_t len, unsigned char *out, size_t *outlen)
{
	unsigned acc = 0;
	size_t i, o = 0, pad = 0, bits = 0;
	int v;

	while (len > 0 && in[len - 1] == '=' && pad < 2)
		len--, pad++;
	if (pad && (len + pad) % 4 != 0)
		return -1;
	if (len % 4 == 1)
		return -1;
	for (i = 0; i < len; i++) {
		if ((v = b64_value((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;
	*outlen = o;
	return 0;
}

/* base64_encode - append the padded encoding */
void
base64_encode(struct buf *b, const unsigned char *in, size_t len)
{
	size_t i;
	unsigned v;

	buf_reserve(b, (len + 2) / 3 * 4);
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
		buf_putc(b, b64_alphabet[v >> 18]);
		buf_putc(b, b64_alphabet[(v >> 12) & 63]);
		buf_putc(b, b64_alphabet[(v >> 6) & 63]);
		buf_putc(b, b64_alphabet[v & 63]);
	}
	if (i < len) {
		v = (unsigned)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)in[i + 1] << 8;
		buf_putc(b, b64_alphabet[v >> 18]);
		buf_putc(b, b64_alphabet[(v >> 12) & 63]);
		buf_putc(b, i + 1 < len ? b64_alphabet[(v >> 6) & 63] : '=');
		buf_putc(b, '=');
	}
}
