#!/usr/bin/perl
# A test ESME on Perl Net::SMPP, driven by the Go tests.
#
#   perl esme.pl PORT SYSTEM_ID PASSWORD [transceiver|transmitter|receiver]
#
# Binds (in list context, so a refused bind is seen: see PEERS.md) and
# prints {"event":"bind","status":N}; exits after a refused bind. Then reads
# commands, one JSON object per line, on stdin, and prints one JSON line
# for each:
#   {"op":"submit","id":"x", <submit_sm parameters>}  → {"event":"submit_resp","id":"x","status":N,"message_id":..}
#   {"op":"data_sm","id":"x", <data_sm parameters>}   → {"event":"data_sm_resp",...}
#   {"op":"flood","id":"x","n":N, <parameters>}        → {"event":"flood","id":"x","statuses":[...]}
#       (N submits sent at once, then their N answers collected)
#   {"op":"quit"}                                     → unbind and exit
# Parameters ending in _hex are hex-decoded first. A deliver_sm or data_sm
# is answered ESME_ROK at once and printed as {"event":"deliver",...}.
use strict;
use warnings;
use IO::Select;
use JSON::PP;
use Net::SMPP;

$| = 1;
my $json = JSON::PP->new->canonical;
my ($port, $system_id, $password, $mode) = @ARGV;
$mode //= 'transceiver';
my $ctor = "new_$mode";
my ($smpp, $resp) = Net::SMPP->$ctor('127.0.0.1', port => $port, system_id => $system_id,
    password => $password, async => 1, timeout => 10);
sub out { print $json->encode($_[0]), "\n" }
if (!$smpp) { out({event => 'bind', error => "connect: $!"}); exit 1 }
# With async => 1 the bind returns its sequence number: wait for the answer.
if (!ref $resp) { $resp = wait_resp(0x80000000 | {transceiver => 9, transmitter => 2, receiver => 1}->{$mode}, $resp) }
out({event => 'bind', status => $resp ? $resp->{status} : -1});
exit 0 if !$resp || $resp->{status} != 0;


sub params {
    my ($cmd) = @_;
    my @p;
    for my $k (sort keys %$cmd) {
        next if $k =~ /^(op|id|n)$/;
        my $v = $cmd->{$k};
        if ($k =~ /^(.*)_hex$/) { push @p, $1 => pack('H*', $v) } else { push @p, $k => $v }
    }
    return @p;
}

# handle answers what the proxy sends us unasked; returns the PDU if it
# is a response.
sub handle {
    my ($pdu) = @_;
    my $cmd = $pdu->{cmd};
    if ($cmd == 0x00000005 || $cmd == 0x00000103) {
        deliver_event($pdu);
        if ($cmd == 5) { $smpp->deliver_sm_resp(message_id => '', seq => $pdu->{seq}) }
        else { $smpp->data_sm_resp(message_id => '', seq => $pdu->{seq}) }
        return undef;
    }
    if ($cmd == 0x00000015) { $smpp->enquire_link_resp(seq => $pdu->{seq}); return undef }
    if ($cmd == 0x00000006) { $smpp->unbind_resp(seq => $pdu->{seq}); exit 0 }
    return $pdu if $cmd & 0x80000000;
    return undef;
}

sub wait_resp {
    my ($cmd, $seq) = @_;
    while (1) {
        my $pdu = $smpp->read_pdu() or return undef;
        my $r = handle($pdu) or next;
        return $r if $r->{seq} == $seq && ($r->{cmd} == $cmd || $r->{cmd} == 0x80000000);
    }
}

sub deliver_event {
    my ($pdu) = @_;
    my %ev = (event => 'deliver', body_hex => unpack('H*', $pdu->{data}));
    for my $f (qw(source_addr destination_addr esm_class)) { $ev{$f} = $pdu->{$f} if defined $pdu->{$f} }
    $ev{short_message} = $pdu->{short_message} if defined $pdu->{short_message};
    $ev{receipted_message_id} = $pdu->{receipted_message_id} if defined $pdu->{receipted_message_id};
    out(\%ev);
}

# Deliveries are answered as they come, also while no command runs: the
# loop waits on both the socket and stdin (read with sysread, since
# buffered reads and select do not mix).
my $sel = IO::Select->new($smpp, \*STDIN);
my $inbuf = '';
while (1) {
    for my $fh ($sel->can_read(1)) {
        if ($fh == $smpp) {
            my $pdu = $smpp->read_pdu() or exit 0;
            handle($pdu);
            next;
        }
        my $n = sysread(STDIN, $inbuf, 65536, length $inbuf);
        exit 0 unless $n;
        while ($inbuf =~ s/^([^\n]*)\n//) {
            command($json->decode($1));
        }
    }
}

sub command {
    my ($cmd) = @_;
    my $op = $cmd->{op};
    if ($op eq 'quit') {
        my $seq = $smpp->unbind();
        wait_resp(0x80000006, $seq);
        exit 0;
    } elsif ($op eq 'submit' || $op eq 'data_sm') {
        my $seq = $op eq 'submit' ? $smpp->submit_sm(params($cmd)) : $smpp->data_sm(params($cmd));
        my $r = wait_resp($op eq 'submit' ? 0x80000004 : 0x80000103, $seq);
        out({event => "${op}_resp", id => $cmd->{id}, status => $r ? $r->{status} : -1,
             message_id => $r ? $r->{message_id} : undef});
    } elsif ($op eq 'flood') {
        my @seqs = map { $smpp->submit_sm(params($cmd)) } 1 .. $cmd->{n};
        my %want = map { $_ => 1 } @seqs;
        my %status;
        while (%want) {
            my $pdu = $smpp->read_pdu() or last;
            my $r = handle($pdu) or next;
            next unless delete $want{$r->{seq}};
            $status{$r->{seq}} = $r->{status};
        }
        out({event => 'flood', id => $cmd->{id}, statuses => [map { $status{$_} // -1 } @seqs]});
    }
}
