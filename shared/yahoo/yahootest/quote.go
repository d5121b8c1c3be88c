package yahootest

import (
	"strconv"
	"time"
)

// QuoteResponse is the v7 quote API's answer, as Yahoo spells it.
type QuoteResponse struct {
	QuoteResponse struct {
		Result []QuoteResult `json:"result"`
		Error  any           `json:"error"`
	} `json:"quoteResponse"`
}

// QuoteResult is one symbol's quote, with the fields Yahoo sends for an equity (yahoo-finance2's
// QuoteBase, src/modules/quote.ts). Times are epoch seconds.
type QuoteResult struct {
	Language                   string   `json:"language"`
	Region                     string   `json:"region"`
	QuoteType                  string   `json:"quoteType"`
	TypeDisp                   string   `json:"typeDisp"`
	QuoteSourceName            string   `json:"quoteSourceName"`
	Triggerable                bool     `json:"triggerable"`
	CustomPriceAlertConfidence string   `json:"customPriceAlertConfidence"`
	Currency                   string   `json:"currency"`
	MarketState                string   `json:"marketState"`
	Exchange                   string   `json:"exchange"`
	ShortName                  string   `json:"shortName"`
	LongName                   string   `json:"longName"`
	ExchangeTimezoneName       string   `json:"exchangeTimezoneName"`
	ExchangeTimezoneShortName  string   `json:"exchangeTimezoneShortName"`
	GMTOffSetMilliseconds      int64    `json:"gmtOffSetMilliseconds"`
	Market                     string   `json:"market"`
	EsgPopulated               bool     `json:"esgPopulated"`
	Tradeable                  bool     `json:"tradeable"`
	PriceHint                  int      `json:"priceHint"`
	RegularMarketChange        float64  `json:"regularMarketChange"`
	RegularMarketChangePercent float64  `json:"regularMarketChangePercent"`
	RegularMarketTime          int64    `json:"regularMarketTime"`
	RegularMarketPrice         float64  `json:"regularMarketPrice"`
	RegularMarketDayHigh       float64  `json:"regularMarketDayHigh"`
	RegularMarketDayRange      string   `json:"regularMarketDayRange"`
	RegularMarketDayLow        float64  `json:"regularMarketDayLow"`
	RegularMarketVolume        int64    `json:"regularMarketVolume"`
	RegularMarketPreviousClose *float64 `json:"regularMarketPreviousClose,omitempty"`
	RegularMarketOpen          float64  `json:"regularMarketOpen"`
	FiftyTwoWeekLow            float64  `json:"fiftyTwoWeekLow"`
	FiftyTwoWeekHigh           float64  `json:"fiftyTwoWeekHigh"`
	FullExchangeName           string   `json:"fullExchangeName"`
	SourceInterval             int      `json:"sourceInterval"`
	ExchangeDataDelayedBy      int      `json:"exchangeDataDelayedBy"`
	FirstTradeDateMilliseconds int64    `json:"firstTradeDateMilliseconds"`
	Symbol                     string   `json:"symbol"`
}

// Quote builds the quote API's result for symbol trading at price at time t, with
// regularMarketPreviousClose at 99.5 % of the price (as Chart's chartPreviousClose).
func Quote(symbol string, price float64, currency string, t time.Time) QuoteResult {
	prev := round2(price * 0.995)
	return QuoteResult{
		Language: "en-US", Region: "US", QuoteType: "EQUITY", TypeDisp: "Equity", QuoteSourceName: "Nasdaq Real Time Price",
		Triggerable: true, CustomPriceAlertConfidence: "HIGH", Currency: currency, MarketState: "REGULAR",
		Exchange: "NMS", ShortName: symbol, LongName: symbol + " Inc.", ExchangeTimezoneName: "America/New_York",
		ExchangeTimezoneShortName: "EDT", GMTOffSetMilliseconds: -4 * 3600 * 1000, Market: "us_market",
		Tradeable: false, PriceHint: 2,
		RegularMarketChange: round2(price - prev), RegularMarketChangePercent: round2((price - prev) / prev * 100),
		RegularMarketTime: t.Unix(), RegularMarketPrice: price,
		RegularMarketDayHigh: round2(price * 1.012), RegularMarketDayLow: round2(price * 0.987),
		RegularMarketDayRange: fmtRange(round2(price*0.987), round2(price*1.012)),
		RegularMarketVolume:   41273500, RegularMarketPreviousClose: &prev, RegularMarketOpen: round2(price * 0.998),
		FiftyTwoWeekLow: round2(price * 0.74), FiftyTwoWeekHigh: round2(price * 1.31), FullExchangeName: "NasdaqGS",
		SourceInterval: 15, ExchangeDataDelayedBy: 0, FirstTradeDateMilliseconds: 345479400000, Symbol: symbol,
	}
}

func fmtRange(lo, hi float64) string {
	return strconv.FormatFloat(lo, 'f', -1, 64) + " - " + strconv.FormatFloat(hi, 'f', -1, 64)
}
