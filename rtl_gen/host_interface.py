"""Host interface: 32-bit command words in, memory accesses, runs and replies out."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from .fixed_hw import at_most
from .protocol import COUNT_LIMIT, Err, Op

__all__ = ["HostInterface", "LR_BITS"]

#: Width of a learning-rate shift register.
LR_BITS = 6


class HostInterface(wiring.Component):
    """Decodes the host's command stream (docs/protocol.md) into engine memory accesses, runs
    and learning-rate settings, and answers every command with exactly one reply.

    Parameters
    ----------
    depths : dict[int, int]
        Depth in words of each memory id the engine has (ids in [0, 16), depths in
        [1, 2**24)). Ids absent here are unknown (``BAD_MEM``).
    writable, readable : set[int]
        The ids WRITE and READ accept (subsets of ``depths``).
    lr_ranges : ((lo, hi), (lo, hi), (lo, hi))
        Allowed values of the weight, threshold and gain learning-rate shifts,
        ``0 <= lo <= hi < 2**LR_BITS``.
    lr_init : (int, int, int)
        Reset values of the three shifts (each within its range).

    Members
    -------
    i : In(stream.Signature(32))
        Command words: a header ``op << 24 | count``, then exactly ``count`` payload words.
        Every payload word is consumed whatever the op, so a rejected command is skipped and
        the next word is read as a header.
    o : Out(stream.Signature(32))
        Replies: a header ``status << 24 | n``, then ``n`` data words (``n = 0`` on error).
    mem_sel : Out(4), mem_addr : Out(24)
        Memory id and word address of the current access.
    mem_wdata : Out(32), mem_we : Out(1)
        Write ``mem_wdata`` at ``mem_sel``/``mem_addr`` in a cycle ``mem_we`` is high (all
        four from registers).
    mem_re : Out(1), mem_rdata : In(32)
        Read: ``mem_rdata`` holds the word of ``mem_sel``/``mem_addr`` two cycles after one
        in which ``mem_re`` was high (a registered read port, then a register). ``mem_re``,
        ``mem_sel`` and
        ``mem_addr`` come from registers only, never from ``o.ready``.
    run : Out(1)
        One-cycle pulse from a register, in the cycle after the execution cycle: start a
        run; ``train`` (1: train, 0: infer) and ``label`` (16 bits) are valid with it and
        held until ``done``.
    done : In(1)
        One-cycle pulse when the run ends, at least one cycle after ``run``; ``cycles``
        (In(32)) is read in that cycle. No memory access happens between ``run`` and
        ``done``.
    prog_ok : In(1), n_classes : In(16)
        Engine state checked by INFER and TRAIN (``NO_PROGRAM`` in the execution cycle; the
        label range as TRAIN's payload word is accepted). Both may lag a program write
        (``mem_we``) by two cycles, three after its data word (a later command's checks come
        later than that).
    lr_w, lr_th, lr_g : Out(LR_BITS)
        Learning-rate shift registers (SET_LR writes all three in one cycle).
    error : Out(8)
        The sticky error register: the last nonzero status sent, 0 after CLEAR_ERROR.

    Cycle behaviour: a header takes one cycle, each payload word one cycle (WRITE data words
    are registered and written in the next cycle: one word per cycle), then one cycle to
    execute (register updates, the engine checks; ``run`` follows in the next cycle). The
    reply header is offered in the next cycle (for INFER and TRAIN: in the cycle after
    ``done``). READ data follows at one word per cycle while ``o.ready`` is high: reads are
    issued from the execution cycle on, the range being checked by then (``mem_rdata`` is
    expected two cycles after ``mem_re``: a block RAM's registered read and a register after
    the bank select; it is written into a 4-word buffer then), as long as the buffer has
    room for it and the reads in flight (so
    back-pressure only pauses the stream and the memories' read addresses never wait on
    ``o.ready``). ``i.ready`` is low from execution until the reply's last word is accepted.
    Every check of a command is decided before it changes any state: an error changes only
    ``error``.
    """

    def __init__(self, depths: dict[int, int], writable, readable, lr_ranges, lr_init):
        try:
            self.depths = {int(k): int(v) for k, v in depths.items()}
            self.writable = frozenset(int(k) for k in writable)
            self.readable = frozenset(int(k) for k in readable)
            self.lr_ranges = tuple((int(lo), int(hi)) for lo, hi in lr_ranges)
            self.lr_init = tuple(int(v) for v in lr_init)
            self._check()
        except (ValueError, TypeError):
            self._MustUse__silence = True  # a rejected component is not an unused one
            raise
        super().__init__({
            "i": In(stream.Signature(32)),
            "o": Out(stream.Signature(32)),
            "mem_sel": Out(4), "mem_addr": Out(24), "mem_wdata": Out(32),
            "mem_we": Out(1), "mem_re": Out(1), "mem_rdata": In(32),
            "run": Out(1), "train": Out(1), "label": Out(16),
            "done": In(1), "cycles": In(32), "prog_ok": In(1), "n_classes": In(16),
            "lr_w": Out(LR_BITS, init=self.lr_init[0]),
            "lr_th": Out(LR_BITS, init=self.lr_init[1]),
            "lr_g": Out(LR_BITS, init=self.lr_init[2]),
            "error": Out(8),
        })

    def _check(self):
        for k, d in self.depths.items():
            if not 0 <= k < 16:
                raise ValueError(f"memory id {k} not in [0, 16)")
            if not 1 <= d < COUNT_LIMIT:
                raise ValueError(f"depth {d} of memory {k} not in [1, 2**24)")
        for name, ids in (("writable", self.writable), ("readable", self.readable)):
            if not ids <= self.depths.keys():
                raise ValueError(f"{name} ids {sorted(ids - self.depths.keys())} have no depth")
        if len(self.lr_ranges) != 3 or len(self.lr_init) != 3:
            raise ValueError("lr_ranges and lr_init need three entries (w, th, g)")
        for (lo, hi), v in zip(self.lr_ranges, self.lr_init):
            if not 0 <= lo <= hi < 1 << LR_BITS:
                raise ValueError(f"lr range [{lo}, {hi}] not within [0, {(1 << LR_BITS) - 1}]")
            if not lo <= v <= hi:
                raise ValueError(f"lr_init {v} not in its range [{lo}, {hi}]")

    def _member(self, m, ids, sel):
        """1 when ``sel`` is one of ``ids``."""
        hit = Signal()
        with m.Switch(sel):
            for k in sorted(ids):
                with m.Case(k):
                    m.d.comb += hit.eq(1)
        return hit

    def _limit(self, m, sel):
        """The depth of memory ``sel`` (0 for an unknown one): a multiplexer of constants."""
        limit = Signal(range(max(self.depths.values()) + 1))
        with m.Switch(sel):
            for k, d in sorted(self.depths.items()):
                with m.Case(k):
                    m.d.comb += limit.eq(d)
        return limit

    def elaborate(self, platform):
        m = Module()
        op = Signal(8)
        count = Signal(24)  # payload words still to come
        first = Signal()  # the next payload word is the first
        err = Signal(8)  # the command's status so far (0: no check failed)
        status = Signal(8)  # the reply's status
        mem = Signal(4)
        # addresses and lengths as wide as the largest depth (the checks see the whole
        # payload words)
        nb = max(self.depths.values()).bit_length()
        addr = Signal(nb)
        rlen = Signal(max(nb, 2))  # reply data words (header), then words still to send
        to_read = Signal(nb)  # READ: words not yet read from memory
        lr_new = [Signal(LR_BITS, name=f"lr_new_{k}") for k in ("w", "th", "g")]
        label = Signal(16)
        bad_label = Signal()  # the label word is not a class of the program (>= n_classes)
        # op's classes, registered with it (EXEC's status and reply length decode no op)
        is_read, is_train, is_run = Signal(), Signal(), Signal()  # READ; TRAIN; INFER or TRAIN
        is_status = Signal()  # STATUS: two reply words
        keeps_rlen = is_read | is_run  # the reply length is set in another state
        result = Signal(32)  # the run's cycle count
        samples = Signal(32)
        error = Signal(8)
        lr = [self.lr_w, self.lr_th, self.lr_g]

        # WRITE: a data word is written in the cycle after it arrives, from registers (no
        # write enable decoded in the engine waits on the link's decode); the last one in EXEC
        we, wdata = Signal(), Signal(32)
        m.d.sync += we.eq(0)
        m.d.comb += [
            self.error.eq(error), self.mem_sel.eq(mem), self.mem_addr.eq(addr),
            self.mem_wdata.eq(wdata), self.mem_we.eq(we), self.label.eq(label),
            self.train.eq(is_train),
        ]
        word = self.i.payload
        p_mem, p_addr = word[24:32], word[0:24]
        # the memory checks of WRITE's and READ's first payload word
        w_mem_ok = self._member(m, self.writable, p_mem)
        r_mem_ok = self._member(m, self.readable, p_mem)
        # the range checks, one subtraction or comparison each (no adder in series with a
        # comparator): the first payload word's address must be within the memory, and
        # ``span`` keeps the words from it to the memory's end; then the length must fit in
        # it: READ's (its second word) as it arrives, WRITE's (the data words, count then)
        # from registers in the cycle after the first word (w_chk), in time to stop a data
        # word of that cycle, written in the next one
        p_span = Signal(nb + 1)  # the memory's depth - p_addr (registered: span)
        m.d.comb += p_span.eq(self._limit(m, p_mem) - p_addr[:nb])
        # p_addr is past the memory's end (at the end is a fit for no words): a compare
        # with each depth (a constant) beside the memory's decode, not after it and the
        # subtraction (into err from a block RAM's output, the FIFO's)
        p_past = Signal()
        with m.Switch(p_mem):
            for k, d in sorted(self.depths.items()):
                with m.Case(k):
                    m.d.comb += p_past.eq(~at_most(p_addr, d))
        span = Signal(nb)
        w_chk = Signal()
        m.d.sync += w_chk.eq(0)
        w_long = w_chk & (count[nb:].any() | (count[:nb] > span))

        # READ data: a word read in one cycle is on mem_rdata two cycles later (the memory's
        # registered read, then the engine's register) and goes into the buffer then; a read
        # is issued only when the buffer has room for it and for the two reads in flight
        # (four words keep one word a cycle flowing while o.ready is high)
        m.submodules.rbuf = rbuf = SyncFIFO(width=32, depth=4)
        in_flight = Signal(2)  # bit 1: the word is on mem_rdata
        issue = Signal()  # read the word at addr (READ, from EXEC on)
        m.d.sync += in_flight.eq(Cat(issue, in_flight[0]))
        m.d.comb += [rbuf.w_data.eq(self.mem_rdata), rbuf.w_en.eq(in_flight[1]),
                     self.mem_re.eq(issue)]
        with m.If(issue | we):  # (a READ's word read, or a WRITE's written)
            m.d.sync += addr.eq(addr + 1)
        # whether a read may issue, from registers: words left to read (to_read != 0,
        # kept with to_read) and room in the buffer for one more word besides those in it
        # and in flight (credits: depth - level - reads in flight, one back per word sent)
        more = Signal()
        credits = Signal(range(rbuf.depth + 1), init=rbuf.depth)
        m.d.sync += credits.eq(credits - issue + (rbuf.r_en & rbuf.r_rdy))
        with m.If(issue):
            m.d.sync += [to_read.eq(to_read - 1), more.eq(to_read != 1)]
        room = more & (credits != 0)

        m.d.sync += self.run.eq(0)
        with m.FSM():
            with m.State("HEADER"):
                m.d.comb += self.i.ready.eq(1)
                h_op, h_count = word[24:32], word[0:24]
                len_ok = Signal()
                known = Signal()
                with m.Switch(h_op):
                    for ops, ok in (
                        ((Op.NOP, Op.INFER, Op.STATUS, Op.CLEAR_ERROR), h_count == 0),
                        ((Op.WRITE,), h_count != 0), ((Op.READ,), h_count == 2),
                        ((Op.SET_LR,), h_count == 3), ((Op.TRAIN,), h_count == 1),
                    ):
                        with m.Case(*ops):
                            m.d.comb += [known.eq(1), len_ok.eq(ok)]
                h_read, h_run = h_op == Op.READ, (h_op == Op.INFER) | (h_op == Op.TRAIN)
                with m.If(self.i.valid):
                    m.d.sync += [
                        op.eq(h_op), count.eq(h_count), first.eq(1),
                        is_read.eq(h_read), is_train.eq(h_op == Op.TRAIN), is_run.eq(h_run),
                        is_status.eq(h_op == Op.STATUS),
                        err.eq(Mux(~known, Err.UNKNOWN_OP, Mux(len_ok, 0, Err.BAD_LENGTH))),
                    ]
                    m.next = "PAYLOAD"
                    with m.If(h_count == 0):
                        m.next = "EXEC"

            with m.State("PAYLOAD"):
                m.d.comb += self.i.ready.eq(1)
                with m.If(self.i.valid):
                    m.d.sync += [count.eq(count - 1), first.eq(0)]
                    with m.If(count == 1):
                        m.next = "EXEC"
                    with m.If(err == 0):
                        with m.Switch(op):
                            with m.Case(Op.WRITE, Op.READ):
                                with m.If(first):
                                    m.d.sync += [mem.eq(p_mem), addr.eq(p_addr),
                                                 span.eq(p_span), w_chk.eq(~is_read)]
                                    with m.If(~Mux(is_read, r_mem_ok, w_mem_ok)):
                                        m.d.sync += err.eq(Err.BAD_MEM)
                                    with m.Elif(p_past):
                                        m.d.sync += err.eq(Err.BAD_ADDRESS)
                                with m.Elif(is_read):  # the length (read from EXEC on)
                                    n = word[0:24]
                                    long = n[nb:].any() | (n[:nb] > span)
                                    # (more only when the READ passes: EXEC issues on
                                    # more, not on err, READ's last check)
                                    m.d.sync += [rlen.eq(n), to_read.eq(n),
                                                 more.eq((n != 0) & ~long)]
                                    with m.If(long):
                                        m.d.sync += err.eq(Err.BAD_ADDRESS)
                                with m.Else():  # a WRITE data word
                                    m.d.sync += [we.eq(~w_long), wdata.eq(word)]
                            with m.Case(Op.SET_LR):
                                with m.Switch(count):  # 3, 2, 1: w, th, g
                                    for k, (lo, hi) in enumerate(self.lr_ranges):
                                        with m.Case(3 - k):
                                            m.d.sync += lr_new[k].eq(word)
                                            out = (~at_most(word, hi)
                                                   | (at_most(word, lo - 1) if lo else 0))
                                            with m.If(out):
                                                m.d.sync += err.eq(Err.BAD_VALUE)
                            with m.Case(Op.TRAIN):
                                # checked as it arrives: no program write can come
                                # between this word and EXEC, and n_classes follows
                                # the last one (written in its EXEC) two cycles on,
                                # before this word
                                m.d.sync += [label.eq(word[0:16]),
                                             bad_label.eq((word[16:32] != 0)
                                                          | (word[0:16] >= self.n_classes))]

            with m.State("EXEC"):
                st = Signal(8)
                no_program = is_run & ~self.prog_ok
                bad_train = is_train & bad_label
                with m.If(err != 0):
                    m.d.comb += st.eq(err)
                with m.Elif(no_program):
                    m.d.comb += st.eq(Err.NO_PROGRAM)
                with m.Elif(bad_train):
                    m.d.comb += st.eq(Err.BAD_VALUE)
                m.d.sync += status.eq(st)
                m.next = "REPLY"
                # a READ's status is err, and ``more`` is set only by a READ's length word
                # that passed every check (rlen = to_read = n since then): its reads issue
                # on ``room`` alone, no decode of err (more is 0 outside a READ)
                with m.If(is_read):
                    m.d.comb += issue.eq(room)
                with m.If(err.any() | no_program | bad_train):  # (st != 0, from its terms)
                    m.d.sync += [error.eq(st), rlen.eq(0), to_read.eq(0), more.eq(0)]
                with m.Else():
                    with m.If(~keeps_rlen):
                        m.d.sync += rlen.eq(Mux(is_status, 2, 0))
                    with m.Switch(op):
                        with m.Case(Op.SET_LR):
                            m.d.sync += [r.eq(v) for r, v in zip(lr, lr_new)]
                        with m.Case(Op.INFER, Op.TRAIN):
                            m.d.sync += self.run.eq(1)  # a register: the run starts
                            m.next = "WAIT"            # in the cycle after EXEC
                        with m.Case(Op.CLEAR_ERROR):
                            m.d.sync += error.eq(0)

            with m.State("WAIT"):
                with m.If(self.done):
                    m.d.sync += [result.eq(self.cycles), rlen.eq(1)]
                    with m.If(is_train):
                        m.d.sync += samples.eq(samples + 1)
                    m.next = "REPLY"

            with m.State("REPLY"):
                header = Cat(rlen, Const(0, 24 - len(rlen)), status)
                m.d.comb += [self.o.valid.eq(1), self.o.payload.eq(header),
                             issue.eq(room)]  # to_read = 0 unless a READ without error
                with m.If(self.o.ready):
                    with m.If(rlen == 0):
                        m.next = "HEADER"
                    with m.Elif(is_read):
                        m.next = "READ"
                    with m.Else():
                        m.next = "DATA"

            with m.State("DATA"):  # STATUS: error, samples; INFER / TRAIN: cycles
                m.d.comb += [self.o.valid.eq(1), self.o.payload.eq(
                    Mux(is_status, Mux(rlen == 2, error, samples), result))]
                with m.If(self.o.ready):
                    m.d.sync += rlen.eq(rlen - 1)
                    with m.If(rlen == 1):
                        m.next = "HEADER"

            with m.State("READ"):  # the buffer's head is the next word
                m.d.comb += [self.o.valid.eq(rbuf.r_rdy), self.o.payload.eq(rbuf.r_data),
                             rbuf.r_en.eq(self.o.ready), issue.eq(room)]
                with m.If(self.o.ready & rbuf.r_rdy):
                    m.d.sync += rlen.eq(rlen - 1)
                    with m.If(rlen == 1):
                        m.next = "HEADER"
        # WRITE's length check, in the cycle after the first word (PAYLOAD, a data word or
        # none; or EXEC with no data word, when w_long is 0), where the FSM sets no err: after
        # the FSM, so its comparator feeds err's last multiplexer, not its first
        with m.If(w_long & (err == 0)):
            m.d.sync += err.eq(Err.BAD_ADDRESS)
        return m
