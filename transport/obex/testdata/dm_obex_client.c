/*
 * A DM client's OBEX side written against OpenOBEX, the test peer for the
 * omadm OBEX server: CONNECT to the SYNCML-DM target, then for every DM
 * message read from stdin ("<length>\n" then the bytes) a PUT with Type,
 * Length and Body and a GET of the same Type, the reply written to stdout
 * the same way; DISCONNECT at the end of stdin. OpenOBEX splits the PUT
 * body and gathers the GET body over as many packets as the packet
 * length negotiated at CONNECT needs (both sides announce 512 bytes here).
 *
 * usage: dm_obex_client HOST PORT TYPE
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openobex/obex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int done, rsp, have_id;
static uint32_t conn_id;
static uint8_t *got;
static uint32_t got_len;
static int who_ok;

static void event_cb(obex_t *h, obex_object_t *obj, int mode, int event, int cmd, int r)
{
	(void)mode;
	(void)cmd;
	uint8_t hi;
	obex_headerdata_t hv;
	uint32_t hl;
	switch (event) {
	case OBEX_EV_REQDONE:
		rsp = r;
		while (OBEX_ObjectGetNextHeader(h, obj, &hi, &hv, &hl)) {
			if (hi == OBEX_HDR_CONNECTION) {
				conn_id = hv.bq4;
				have_id = 1;
			} else if (hi == OBEX_HDR_WHO) {
				who_ok = hl == 9 && memcmp(hv.bs, "SYNCML-DM", 9) == 0;
			} else if (hi == OBEX_HDR_BODY) {
				free(got);
				got = malloc(hl ? hl : 1);
				memcpy(got, hv.bs, hl);
				got_len = hl;
			}
		}
		done = 1;
		break;
	case OBEX_EV_LINKERR:
	case OBEX_EV_PARSEERR:
		rsp = -1;
		done = 1;
		break;
	}
}

static int run(obex_t *h, obex_object_t *obj, const char *what)
{
	done = 0;
	rsp = 0;
	if (OBEX_Request(h, obj) < 0) {
		fprintf(stderr, "%s: request failed\n", what);
		return -1;
	}
	while (!done) {
		int n = OBEX_HandleInput(h, 30);
		if (n < 0) {
			fprintf(stderr, "%s: link error\n", what);
			return -1;
		}
		if (n == 0) {
			fprintf(stderr, "%s: no answer in 30s\n", what);
			return -1;
		}
	}
	if (rsp != OBEX_RSP_SUCCESS) {
		fprintf(stderr, "%s: response 0x%02x\n", what, rsp);
		return -1;
	}
	return 0;
}

static void add_id(obex_t *h, obex_object_t *o)
{
	obex_headerdata_t hv;
	if (have_id) {
		hv.bq4 = conn_id;
		OBEX_ObjectAddHeader(h, o, OBEX_HDR_CONNECTION, hv, 4, 0);
	}
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s HOST PORT TYPE\n", argv[0]);
		return 2;
	}
	const char *type = argv[3];
	obex_t *h = OBEX_Init(OBEX_TRANS_INET, event_cb, 0);
	if (!h) {
		fprintf(stderr, "OBEX_Init failed\n");
		return 1;
	}
	OBEX_SetTransportMTU(h, 512, 512);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &sin.sin_addr);
	if (TcpOBEX_TransportConnect(h, (struct sockaddr *)&sin, sizeof sin) < 0) {
		fprintf(stderr, "connect to %s:%s failed\n", argv[1], argv[2]);
		return 1;
	}
	obex_headerdata_t hv;
	obex_object_t *o = OBEX_ObjectNew(h, OBEX_CMD_CONNECT);
	hv.bs = (const uint8_t *)"SYNCML-DM";
	OBEX_ObjectAddHeader(h, o, OBEX_HDR_TARGET, hv, 9, OBEX_FL_FIT_ONE_PACKET);
	if (run(h, o, "CONNECT") < 0)
		return 1;
	if (!have_id || !who_ok) {
		fprintf(stderr, "CONNECT: no Connection ID or Who SYNCML-DM in the answer\n");
		return 1;
	}
	for (;;) {
		unsigned long n;
		if (scanf("%lu", &n) != 1)
			break;
		getchar(); /* the newline */
		uint8_t *msg = malloc(n ? n : 1);
		if (fread(msg, 1, n, stdin) != n) {
			fprintf(stderr, "short message on stdin\n");
			return 1;
		}
		o = OBEX_ObjectNew(h, OBEX_CMD_PUT);
		add_id(h, o);
		hv.bs = (const uint8_t *)type;
		OBEX_ObjectAddHeader(h, o, OBEX_HDR_TYPE, hv, strlen(type) + 1, 0);
		hv.bq4 = (uint32_t)n;
		OBEX_ObjectAddHeader(h, o, OBEX_HDR_LENGTH, hv, 4, 0);
		hv.bs = msg;
		OBEX_ObjectAddHeader(h, o, OBEX_HDR_BODY, hv, (uint32_t)n, 0);
		if (run(h, o, "PUT") < 0)
			return 1;
		free(msg);
		got_len = 0;
		o = OBEX_ObjectNew(h, OBEX_CMD_GET);
		add_id(h, o);
		hv.bs = (const uint8_t *)type;
		OBEX_ObjectAddHeader(h, o, OBEX_HDR_TYPE, hv, strlen(type) + 1, 0);
		if (run(h, o, "GET") < 0)
			return 1;
		printf("%lu\n", (unsigned long)got_len);
		fwrite(got, 1, got_len, stdout);
		fflush(stdout);
	}
	o = OBEX_ObjectNew(h, OBEX_CMD_DISCONNECT);
	add_id(h, o);
	if (run(h, o, "DISCONNECT") < 0)
		return 1;
	OBEX_Cleanup(h);
	return 0;
}
