"""会员服务卡 rules (seed 002), one module per part: batches (办卡批次 and the 交接 / bank steps),
applications (the ``card_application`` and ``card_bank_result`` import kinds), cards (the card state
machine, the card face), coverage (年度注册: periods, fees, funding), benefits (给付), statistics.

Other domains may use: ``coverage.coverage_period`` and ``cards.valid_card_on``."""
