#!/usr/bin/perl
# A test SMSC on Perl Net::SMPP (new_listen), driven by the Go tests.
#
#   perl smsc.pl [PORT]     (no port: an ephemeral one)
#
# Prints JSON lines on stdout:
#   {"event":"listening","port":N}
#   {"event":"bind","system_id":..,"password":..}
#   {"event":"submit","cmd":"submit_sm","body_hex":..,"destination_addr":..,...}
#   {"event":"deliver_resp","id":..,"status":N}
# and reads commands, one JSON object per line, on stdin:
#   {"op":"deliver","id":"x", <deliver_sm parameters>}   send a deliver_sm
#   {"op":"status","status":N}   answer the next submits with status N
#   {"op":"hold"}                stop answering submits (they stay outstanding)
#   {"op":"quit"}
# Parameters ending in _hex are hex-decoded first (short_message_hex …).
use strict;
use warnings;
use IO::Select;
use JSON::PP;
use Net::SMPP;

$| = 1;
my $json = JSON::PP->new->canonical;
my $port = shift // 0;
my $listen = Net::SMPP->new_listen('127.0.0.1', port => $port, async => 1, smpp_version => 0x34)
    or die "listen: $!\n";
out({event => 'listening', port => $listen->sockport});

my $sel = IO::Select->new($listen, \*STDIN);
my (%bound, %pending);
my $next_id = 0;
my $status = 0;
my $hold = 0;
my $inbuf = '';

sub out { print $json->encode($_[0]), "\n" }

sub params {
    my ($cmd) = @_;
    my @p;
    for my $k (sort keys %$cmd) {
        next if $k eq 'op' || $k eq 'id';
        my $v = $cmd->{$k};
        if ($k =~ /^(.*)_hex$/) { push @p, $1 => pack('H*', $v) } else { push @p, $k => $v }
    }
    return @p;
}

while (1) {
    for my $fh ($sel->can_read(60)) {
        if ($fh == $listen) {
            my $c = $listen->accept or next;
            $sel->add($c);
            next;
        }
        if ($fh == \*STDIN) {
            # sysread, since buffered reads and select do not mix.
            my $n = sysread(STDIN, $inbuf, 65536, length $inbuf);
            exit 0 unless $n;
            while ($inbuf =~ s/^([^\n]*)\n//) {
                command($json->decode($1));
            }
            next;
        }
        my $pdu = $fh->read_pdu();
        unless ($pdu) {
            $sel->remove($fh);
            delete $bound{"$fh"};
            close $fh;
            next;
        }
        my $cmd = $pdu->{cmd};
        if ($cmd == 0x00000009 || $cmd == 0x00000002 || $cmd == 0x00000001) {
            out({event => 'bind', system_id => $pdu->{system_id}, password => $pdu->{password}});
            my $resp = {0x9 => 'bind_transceiver_resp', 0x2 => 'bind_transmitter_resp', 0x1 => 'bind_receiver_resp'}->{$cmd};
            $fh->$resp(system_id => 'perlsmsc', seq => $pdu->{seq});
            $bound{"$fh"} = $fh;
        } elsif ($cmd == 0x00000004 || $cmd == 0x00000103) {
            my %ev = (event => 'submit', cmd => ($cmd == 4 ? 'submit_sm' : 'data_sm'),
                      body_hex => unpack('H*', $pdu->{data}));
            for my $f (qw(service_type source_addr destination_addr esm_class protocol_id data_coding registered_delivery)) {
                $ev{$f} = $pdu->{$f} if defined $pdu->{$f};
            }
            $ev{short_message_hex} = unpack('H*', $pdu->{short_message}) if defined $pdu->{short_message};
            out(\%ev);
            next if $hold;
            my $id = 'perl-' . ++$next_id;
            if ($cmd == 4) {
                $fh->submit_sm_resp(message_id => $id, seq => $pdu->{seq}, status => $status);
            } else {
                $fh->data_sm_resp(message_id => $id, seq => $pdu->{seq}, status => $status);
            }
        } elsif ($cmd == 0x80000005 || $cmd == 0x80000103) {
            my $id = delete $pending{"$fh"}{$pdu->{seq}};
            out({event => 'deliver_resp', id => $id, status => $pdu->{status}});
        } elsif ($cmd == 0x00000015) {
            $fh->enquire_link_resp(seq => $pdu->{seq});
        } elsif ($cmd == 0x00000006) {
            $fh->unbind_resp(seq => $pdu->{seq});
            $sel->remove($fh);
            delete $bound{"$fh"};
            close $fh;
        }
    }
}

sub command {
    my ($cmd) = @_;
    exit 0 if $cmd->{op} eq 'quit';
    if ($cmd->{op} eq 'status') { $status = $cmd->{status}; return }
    if ($cmd->{op} eq 'hold') { $hold = 1; return }
    if ($cmd->{op} eq 'deliver') {
        my ($conn) = values %bound;
        unless ($conn) { out({event => 'deliver_resp', id => $cmd->{id}, error => 'not bound'}); return }
        my $seq = $conn->deliver_sm(params($cmd), async => 1);
        $pending{"$conn"}{$seq} = $cmd->{id};
    }
}
