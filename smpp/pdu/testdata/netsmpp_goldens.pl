#!/usr/bin/perl
# Sends the golden PDUs of this directory, built by Net::SMPP's own encoder,
# to 127.0.0.1:PORT in the order pdu_test.go expects them. The Go test
# compares each frame it receives with the matching .hex file.
use strict;
use warnings;
use Net::SMPP;

my $port = shift or die "usage: $0 PORT\n";
# Net::SMPP knows only the tags of its table; teach it the vendor tag that
# the submit_sm_payload golden carries.
$Net::SMPP::param_by_name{vendor_1400} = 0x1400;

my $s = Net::SMPP->new_connect('127.0.0.1', port => $port, async => 1, timeout => 5)
    or die "connect: $!\n";

$s->bind_transmitter(system_id => 'SMPP3TEST', password => 'secret08', system_type => 'SUBMIT1',
    interface_version => 0x34, addr_ton => 1, addr_npi => 1, address_range => '', seq => 1);
$s->bind_receiver(system_id => 'esme1', password => 'pw', system_type => '',
    interface_version => 0x34, addr_ton => 0, addr_npi => 0, address_range => '^4917', seq => 2);
$s->bind_transceiver(system_id => 'esme1', password => 'pw', seq => 3);
$s->bind_transceiver_resp(system_id => 'simguard', seq => 3, sc_interface_version => "\x34");
$s->outbind(system_id => 'smsc', password => 'pw', seq => 7);
$s->unbind(seq => 9);
$s->unbind_resp(seq => 9);
$s->enquire_link(seq => 10);
$s->enquire_link_resp(seq => 10);
$s->generic_nack(status => 3, seq => 11);
$s->submit_sm(source_addr_ton => 5, source_addr_npi => 0, source_addr => 'SIMGUARD',
    dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '491701234567',
    registered_delivery => 1, short_message => 'Hello meter 7', seq => 20);
$s->submit_sm(source_addr_ton => 1, source_addr_npi => 1, source_addr => '4915100000',
    dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '491701234567',
    esm_class => 0x40, protocol_id => 0x7f, validity_period => '000001000000000R', data_coding => 0xf6,
    short_message => pack('H*', '027000' . '00150d00000000505348000000000000a0a40000023f00'), seq => 21);
$s->submit_sm(service_type => 'CMT', source_addr_ton => 1, source_addr_npi => 1, source_addr => '4930123456',
    dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '491701234567',
    priority_flag => 1, schedule_delivery_time => '231224103000000+', registered_delivery => 0x11,
    data_coding => 0x08, short_message => '',
    message_payload => "\x00\x48\x00\x69", sar_msg_ref_num => "\x12\x34", sar_total_segments => "\x02",
    sar_segment_seqnum => "\x01", user_message_reference => "\x00\x07", vendor_1400 => "\x01\x02\x03", seq => 22);
$s->submit_sm_resp(message_id => '5f1d3c0a', seq => 20);
$s->deliver_sm(source_addr_ton => 1, source_addr_npi => 1, source_addr => '491701234567',
    dest_addr_ton => 5, dest_addr_npi => 0, destination_addr => 'SIMGUARD', esm_class => 0x04,
    short_message => 'id:5f1d3c0a sub:001 dlvrd:001 submit date:2312241030 done date:2312241031 stat:DELIVRD err:000 text:Hello meter 7',
    receipted_message_id => "5f1d3c0a\0", message_state => "\x02", seq => 30);
$s->deliver_sm(source_addr_ton => 1, source_addr_npi => 1, source_addr => '491701234567',
    dest_addr_ton => 0, dest_addr_npi => 0, destination_addr => '8888', short_message => 'TEMP 21.5C', seq => 31);
$s->deliver_sm_resp(message_id => '', seq => 30);
$s->data_sm(source_addr_ton => 1, source_addr_npi => 1, source_addr => '4930123456',
    dest_addr_ton => 1, dest_addr_npi => 1, destination_addr => '491701234567',
    esm_class => 0, registered_delivery => 1, data_coding => 0,
    message_payload => 'wake up', user_message_reference => "\x02\x01", seq => 40);
$s->data_sm_resp(message_id => 'a1', seq => 40);
$s->query_sm(message_id => 'a1', source_addr_ton => 0, source_addr_npi => 0, source_addr => '', seq => 50);
$s->close;
