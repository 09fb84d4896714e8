// Connection quality from RTCPeerConnection.getStats: round-trip time and packet loss.

export class QualityMonitor {
  constructor(links, onReport) {
    this.links = links;
    this.onReport = onReport;
    this.previous = new Map();
    this.timer = setInterval(() => this.sample().catch(() => {}), 2000);
  }

  async sample() {
    let rtt = null;
    let lost = 0;
    let received = 0;
    for (const pc of this.links().filter(Boolean)) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      let selected = null;
      stats.forEach((report) => {
        if (report.type === 'transport' && report.selectedCandidatePairId) selected = report.selectedCandidatePairId;
      });
      stats.forEach((report) => {
        const pair = report.type === 'candidate-pair' && (report.id === selected || (!selected && report.nominated));
        if (pair && report.currentRoundTripTime !== undefined) {
          rtt = Math.max(rtt ?? 0, report.currentRoundTripTime * 1000);
        }
        if (report.type === 'inbound-rtp' || report.type === 'remote-inbound-rtp') {
          const key = `${report.type}:${report.id}`;
          const before = this.previous.get(key) || { lost: 0, received: 0 };
          const nowLost = Math.max(0, report.packetsLost || 0);
          const nowReceived = report.packetsReceived ?? (before.received + 50);
          lost += Math.max(0, nowLost - before.lost);
          received += Math.max(0, nowReceived - before.received);
          this.previous.set(key, { lost: nowLost, received: nowReceived });
        }
      });
    }
    const loss = received + lost > 0 ? (lost / (received + lost)) * 100 : 0;
    let level = 'good';
    if (rtt === null) level = 'unknown';
    else if (rtt > 400 || loss > 8) level = 'poor';
    else if (rtt > 150 || loss > 2) level = 'fair';
    this.onReport({ level, rtt: rtt === null ? null : Math.round(rtt), loss: Math.round(loss * 10) / 10 });
  }

  stop() {
    clearInterval(this.timer);
  }
}
