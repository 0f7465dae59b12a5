/*
 * libobexftp against the omadm OBEX server: obexftp_connect_uuid to the
 * SYNCML-DM target (CONNECT with Target, answered with Who and a
 * Connection ID), then obexftp_put_data, which sends Name, Length and Body
 * but no Type header, and DISCONNECT. Prints "connected" and "put N"
 * (N < 0 when the server refused the PUT).
 *
 * usage: dm_obexftp_client HOST PORT
 */
#include <obexftp/client.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
		return 2;
	}
	obexftp_client_t *cli = obexftp_open(OBEX_TRANS_INET, NULL, NULL, NULL);
	if (!cli) {
		fprintf(stderr, "obexftp_open failed\n");
		return 1;
	}
	if (obexftp_connect_uuid(cli, argv[1], atoi(argv[2]), (const uint8_t *)"SYNCML-DM", 9) < 0) {
		fprintf(stderr, "connect failed\n");
		return 1;
	}
	printf("connected\n");
	printf("put %d\n", obexftp_put_data(cli, (const uint8_t *)"<SyncML/>", 9, "dm"));
	fflush(stdout);
	obexftp_disconnect(cli);
	obexftp_close(cli);
	return 0;
}
