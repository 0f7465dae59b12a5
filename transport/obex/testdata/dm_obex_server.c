/*
 * An OBEX server written against OpenOBEX, the test peer for the omadm
 * OBEX client transport: it takes one connection to the SYNCML-DM target
 * (answering Who and a Connection ID; other targets are refused with
 * Service Unavailable), records each PUT (Type and Body) and answers the
 * GET that follows with "reply:" and the body PUT last, in the same Type.
 * It prints "ready" once listening, "put TYPE LENGTH" per message, and
 * exits 0 after DISCONNECT. Packets are held to 512 bytes.
 *
 * usage: dm_obex_server PORT
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openobex/obex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static obex_t *conn;
static int finished, failed;
static char type[128];
static uint8_t *last;
static uint32_t last_len;

static void conn_cb(obex_t *h, obex_object_t *obj, int mode, int event, int cmd, int rsp);

static void server_cb(obex_t *h, obex_object_t *obj, int mode, int event, int cmd, int rsp)
{
	(void)obj;
	(void)mode;
	(void)cmd;
	(void)rsp;
	if (event == OBEX_EV_ACCEPTHINT && !conn) {
		conn = OBEX_ServerAccept(h, conn_cb, NULL);
		if (!conn)
			failed = finished = 1;
	}
}

static void on_request(obex_t *h, obex_object_t *obj, int cmd)
{
	uint8_t hi;
	obex_headerdata_t hv;
	uint32_t hl;
	int target_ok = 0;
	switch (cmd) {
	case OBEX_CMD_CONNECT:
		while (OBEX_ObjectGetNextHeader(h, obj, &hi, &hv, &hl))
			if (hi == OBEX_HDR_TARGET && hl == 9 && memcmp(hv.bs, "SYNCML-DM", 9) == 0)
				target_ok = 1;
		if (!target_ok) {
			OBEX_ObjectSetRsp(obj, OBEX_RSP_SERVICE_UNAVAILABLE, OBEX_RSP_SERVICE_UNAVAILABLE);
			return;
		}
		hv.bs = (const uint8_t *)"SYNCML-DM";
		OBEX_ObjectAddHeader(h, obj, OBEX_HDR_WHO, hv, 9, 0);
		hv.bq4 = 0x2a;
		OBEX_ObjectAddHeader(h, obj, OBEX_HDR_CONNECTION, hv, 4, 0);
		OBEX_ObjectSetRsp(obj, OBEX_RSP_SUCCESS, OBEX_RSP_SUCCESS);
		break;
	case OBEX_CMD_PUT:
		type[0] = 0;
		while (OBEX_ObjectGetNextHeader(h, obj, &hi, &hv, &hl)) {
			if (hi == OBEX_HDR_TYPE && hl > 0 && hl < sizeof type) {
				memcpy(type, hv.bs, hl);
				type[hl] = 0;
			} else if (hi == OBEX_HDR_BODY) {
				free(last);
				last = malloc(hl + 6);
				memcpy(last, "reply:", 6);
				memcpy(last + 6, hv.bs, hl);
				last_len = hl + 6;
			}
		}
		printf("put %s %lu\n", type, (unsigned long)(last_len - 6));
		fflush(stdout);
		OBEX_ObjectSetRsp(obj, OBEX_RSP_CONTINUE, OBEX_RSP_SUCCESS);
		break;
	case OBEX_CMD_GET:
		if (!last) {
			OBEX_ObjectSetRsp(obj, OBEX_RSP_NOT_FOUND, OBEX_RSP_NOT_FOUND);
			return;
		}
		hv.bs = (const uint8_t *)type;
		OBEX_ObjectAddHeader(h, obj, OBEX_HDR_TYPE, hv, strlen(type) + 1, 0);
		hv.bq4 = last_len;
		OBEX_ObjectAddHeader(h, obj, OBEX_HDR_LENGTH, hv, 4, 0);
		hv.bs = last;
		OBEX_ObjectAddHeader(h, obj, OBEX_HDR_BODY, hv, last_len, 0);
		OBEX_ObjectSetRsp(obj, OBEX_RSP_CONTINUE, OBEX_RSP_SUCCESS);
		break;
	case OBEX_CMD_DISCONNECT:
		OBEX_ObjectSetRsp(obj, OBEX_RSP_SUCCESS, OBEX_RSP_SUCCESS);
		break;
	default:
		OBEX_ObjectSetRsp(obj, OBEX_RSP_NOT_IMPLEMENTED, OBEX_RSP_NOT_IMPLEMENTED);
	}
}

static void conn_cb(obex_t *h, obex_object_t *obj, int mode, int event, int cmd, int rsp)
{
	(void)mode;
	(void)rsp;
	switch (event) {
	case OBEX_EV_REQHINT:
		OBEX_ObjectSetRsp(obj, OBEX_RSP_CONTINUE, OBEX_RSP_SUCCESS);
		break;
	case OBEX_EV_REQ:
		on_request(h, obj, cmd);
		break;
	case OBEX_EV_REQDONE:
		if (cmd == OBEX_CMD_DISCONNECT)
			finished = 1;
		break;
	case OBEX_EV_LINKERR:
	case OBEX_EV_PARSEERR:
		failed = finished = 1;
		break;
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s PORT\n", argv[0]);
		return 2;
	}
	obex_t *srv = OBEX_Init(OBEX_TRANS_INET, server_cb, OBEX_FL_KEEPSERVER);
	if (!srv)
		return 1;
	OBEX_SetTransportMTU(srv, 512, 512);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (TcpOBEX_ServerRegister(srv, (struct sockaddr *)&sin, sizeof sin) < 0) {
		fprintf(stderr, "cannot listen on 127.0.0.1:%s\n", argv[1]);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (!finished) {
		int n = OBEX_HandleInput(conn ? conn : srv, 30);
		if (n < 0) {
			fprintf(stderr, "link error\n");
			return 1;
		}
		if (n == 0) {
			fprintf(stderr, "no request in 30s\n");
			return 1;
		}
	}
	return failed;
}
