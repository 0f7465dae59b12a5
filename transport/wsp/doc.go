// Package wsp is the device side of the OMA DM WSP binding: DM messages go
// as WSP Post requests in a connection-oriented WSP session (WAP-230-WSP
// §8.2) carried by WTP class 2 transactions (WAP-224-WTP §8.1.4) over UDP
// to a WAP gateway (port 9201), which fetches the Post's URI over HTTP
// from the DM server and answers with a WSP Reply.
//
// What is implemented, as the WTP initiator and WSP client:
//   - WTP class 2 (Invoke, Result, Ack) with user acknowledgement, class 0
//     for Disconnect; retransmission with a bounded counter (RCR) and the
//     hold-on Ack; TID verification (Ack Tve answered with Ack Tok); Abort
//     in both directions; TIDs of 15 bits that increment and wrap.
//   - WTP segmentation and re-assembly (SAR): messages larger than one
//     packet go as Invoke + Segmented Invoke packets in groups, each group
//     acknowledged by the PSN of its trailer and sent again when not;
//     segmented results are reassembled, complete groups acknowledged and
//     missing packets asked for with a Negative Ack. At most 256 packets.
//   - WSP Connect (Client-SDU-Size, Method-MOR and Push-MOR proposed),
//     ConnectReply (session id, negotiated capabilities), Post with the DM
//     content type as well-known code 0x42/0x43, Accept, User-Agent and the
//     x-syncml-hmac application header, Reply (status mapped to HTTP,
//     content type, headers, body), Disconnect.
//
// Not implemented: WTP class 1, WSP connectionless mode, Suspend/Resume,
// push over the session, header code pages, WTLS, TPIs other than the PSN.
// Every decoder has hard limits and a fuzz target.
package wsp
