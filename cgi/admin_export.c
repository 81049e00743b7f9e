/*
 * admin_export.c - Excel exports of the console's lists: houses, bills,
 * meters. Each route runs the JSON list handler with rq->export_sheet set,
 * so it has the same filters and the same permission as the list it mirrors
 * (xlsx_export.h); what lives here is only which columns go into the sheet,
 * under which Chinese header, formatted how.
 */
#include "api.h"
#include "xlsx_export.h"

static const struct xlsx_label house_status_zh[] = {
	{ "occupied", "已入住" }, { "vacant", "空置" }, { "decorating", "装修中" }, { NULL, NULL },
};
static const struct xlsx_label billing_mode_zh[] = {
	{ "postpaid", "后付费" }, { "prepaid", "预付费" }, { NULL, NULL },
};
static const struct xlsx_label utility_zh[] = {
	{ "electric", "电" }, { "water", "水" }, { NULL, NULL },
};
static const struct xlsx_label bill_status_zh[] = {
	{ "draft", "草稿" }, { "issued", "待缴" }, { "paid", "已缴" }, { "void", "已作废" },
	{ NULL, NULL },
};
static const struct xlsx_label meter_kind_zh[] = {
	{ "household", "户表" }, { "supply", "总表" }, { "public", "公共表" }, { NULL, NULL },
};
static const struct xlsx_label meter_status_zh[] = {
	{ "active", "在用" }, { "removed", "已拆除" }, { NULL, NULL },
};
static const struct xlsx_label protocol_zh[] = {
	{ "manual", "人工抄表" }, { "dlt645", "DL/T 645" }, { "modbus", "Modbus" },
	{ "cjt188", "CJ/T 188" }, { NULL, NULL },
};

static const struct xlsx_col house_cols[] = {
	{ "id", "房屋ID", XLSX_INT, 8, NULL },
	{ "building_name", "楼栋", XLSX_TEXT, 14, NULL },
	{ "unit_no", "单元", XLSX_TEXT, 8, NULL },
	{ "room", "房号", XLSX_TEXT, 10, NULL },
	{ "floor", "楼层", XLSX_INT, 8, NULL },
	{ "area_m2", "建筑面积(㎡)", XLSX_DEC, 12, NULL },
	{ "status", "房屋状态", XLSX_TEXT, 10, house_status_zh },
	{ "billing_mode", "计费方式", XLSX_TEXT, 10, billing_mode_zh },
	{ "household_size", "户籍人口", XLSX_INT, 10, NULL },
	{ "owners", "业主", XLSX_TEXT, 20, NULL },
	{ "created_at", "创建时间", XLSX_DATETIME, 20, NULL },
};
static const struct xlsx_sheet sheet_houses = {
	"房屋", "房屋列表", "houses", house_cols, XQ_ARRAY_LEN(house_cols),
};

static const struct xlsx_col bill_cols[] = {
	{ "id", "账单号", XLSX_INT, 10, NULL },
	{ "house_label", "房屋", XLSX_TEXT, 18, NULL },
	{ "period", "账期", XLSX_TEXT, 10, NULL },
	{ "utility", "类型", XLSX_TEXT, 6, utility_zh },
	{ "status", "状态", XLSX_TEXT, 8, bill_status_zh },
	{ "qty_milli", "用量(kWh/m³)", XLSX_MILLI, 14, NULL },
	{ "amount_fen", "应收金额(元)", XLSX_FEN, 14, NULL },
	{ "paid_fen", "已缴金额(元)", XLSX_FEN, 14, NULL },
	{ "late_fee_fen", "滞纳金(元)", XLSX_FEN, 12, NULL },
	{ "due_date", "缴费截止日", XLSX_DATE, 12, NULL },
	{ "issued_at", "出账时间", XLSX_DATETIME, 20, NULL },
	{ "paid_at", "缴清时间", XLSX_DATETIME, 20, NULL },
	{ "void_reason", "作废原因", XLSX_TEXT, 20, NULL },
};
static const struct xlsx_sheet sheet_bills = {
	"账单", "账单列表", "bills", bill_cols, XQ_ARRAY_LEN(bill_cols),
};

static const struct xlsx_col meter_cols[] = {
	{ "id", "表计ID", XLSX_INT, 8, NULL },
	{ "meter_no", "表号", XLSX_TEXT, 16, NULL },
	{ "community_name", "小区", XLSX_TEXT, 16, NULL },
	{ "house_label", "房屋", XLSX_TEXT, 18, NULL },
	{ "utility", "类型", XLSX_TEXT, 6, utility_zh },
	{ "kind", "表计类别", XLSX_TEXT, 10, meter_kind_zh },
	{ "parent_meter_no", "上级总表", XLSX_TEXT, 14, NULL },
	{ "model", "型号", XLSX_TEXT, 14, NULL },
	{ "protocol", "通信协议", XLSX_TEXT, 12, protocol_zh },
	{ "address", "通信地址", XLSX_TEXT, 16, NULL },
	{ "multiplier", "倍率", XLSX_INT, 8, NULL },
	{ "smart", "智能表", XLSX_BOOL, 8, NULL },
	{ "status", "状态", XLSX_TEXT, 8, meter_status_zh },
	{ "installed_at", "安装时间", XLSX_DATETIME, 20, NULL },
	{ "last_value", "最新读数(kWh/m³)", XLSX_MILLI, 16, NULL },
	{ "last_read_at", "最新抄表时间", XLSX_DATETIME, 20, NULL },
};
static const struct xlsx_sheet sheet_meters = {
	"表计", "表计列表", "meters", meter_cols, XQ_ARRAY_LEN(meter_cols),
};

int admin_house_export(struct req *rq)
{
	rq->export_sheet = &sheet_houses;
	return admin_house_list(rq);
}

int admin_bill_export(struct req *rq)
{
	rq->export_sheet = &sheet_bills;
	return admin_bill_list(rq);
}

int admin_meter_export(struct req *rq)
{
	rq->export_sheet = &sheet_meters;
	return admin_meter_list(rq);
}
